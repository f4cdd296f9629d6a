// normalise_model_info on inputs the fuzzer found: refused with a reason, never served broken.
#include <gtest/gtest.h>

#include "serve/model_info_check.hpp"

using trainscope::agent::normalise_model_info;

TEST(ModelInfo, ANumberBeyondDoubleRangeIsRefusedNotServedAsBrokenJson) {
    // RapidJSON reads 641e308 as infinity and cannot write it back.
    auto r = normalise_model_info(R"({"tree":{"name":"wte","type":"Embedding","params":1,"input_shape":[1,641e308]}})");
    EXPECT_FALSE(r.ok) << "served: " << r.json;
    EXPECT_NE(r.error.find("too large"), std::string::npos) << r.error;
}

TEST(ModelInfo, ParamsSummingPastInt64AreRefused) {
    auto r = normalise_model_info(
        R"({"tree":{"name":"a","type":"t","children":[{"name":"b","type":"t","params":9223372036854775807},)"
        R"({"name":"c","type":"t","params":1}]}})");
    EXPECT_FALSE(r.ok) << "served: " << r.json;
    EXPECT_NE(r.error.find("tree.children"), std::string::npos) << r.error;
}

TEST(ModelInfo, AnOrdinaryTreeGetsItsTotals) {
    auto r = normalise_model_info(
        R"({"tree":{"name":"a","type":"t","children":[{"name":"b","type":"t","params":3},{"name":"c","type":"t","params":4}]}})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_NE(r.json.find("\"total_params\":7"), std::string::npos) << r.json;
}
