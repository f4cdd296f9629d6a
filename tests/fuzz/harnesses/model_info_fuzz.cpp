// Model-info validation: any text a trainer puts in its segment's model-info blob.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "serve/model_info_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    trainscope::agent::ModelInfoResult r = trainscope::agent::normalise_model_info(text);
    if (!r.ok) {
        FUZZ_CHECK(!r.error.empty(), "a refusal without a reason");
        return 0;
    }
    // What the agent serves must be a JSON object with the derived fields.
    rapidjson::Document doc;
    doc.Parse(r.json.c_str(), r.json.size());
    FUZZ_CHECK(!doc.HasParseError() && doc.IsObject(), "the normalised model info is not a JSON object");
    FUZZ_CHECK(doc.HasMember("tree") && doc.HasMember("node_count") && doc.HasMember("total_params"),
               "the normalised model info lacks tree, node_count or total_params");
    return 0;
}
