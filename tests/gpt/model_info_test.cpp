// The model-info and config JSON: well-formed, the promised tree, parameter counts that match
// the real model, and strings escaped.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include <trainscope/json_writer.hpp>
#include <trainscope/model_info.hpp>

#include "model.hpp"
#include "run_config_json.hpp"

namespace gpt {
namespace {

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    EXPECT_FALSE(d.HasParseError()) << "offset " << d.GetErrorOffset() << " in " << text;
    return d;
}

trainscope::GptModelInfo info_config(int vocab, int n_layer, int n_head, int n_embd, int block) {
    trainscope::GptModelInfo m;
    m.vocab_size = vocab;
    m.n_layer = n_layer;
    m.n_head = n_head;
    m.n_embd = n_embd;
    m.block_size = block;
    return m;
}

std::vector<std::string> child_names(const rapidjson::Value& node) {
    std::vector<std::string> names;
    for (const auto& c : node["children"].GetArray()) names.push_back(c["name"].GetString());
    return names;
}

// Every parent's params is the sum of its children's; returns the node's params.
long long check_sums(const rapidjson::Value& node) {
    const long long own = node["params"].GetInt64();
    const auto& children = node["children"].GetArray();
    if (children.Empty()) return own;
    long long sum = 0;
    for (const auto& c : children) sum += check_sums(c);
    EXPECT_EQ(own, sum) << node["name"].GetString();
    return own;
}

const rapidjson::Value& child(const rapidjson::Value& node, const std::string& name) {
    for (const auto& c : node["children"].GetArray())
        if (name == c["name"].GetString()) return c;
    ADD_FAILURE() << "no child " << name;
    return node;
}

TEST(ModelInfo, TreeHasTheGptLayers) {
    const auto doc = parse(trainscope::gpt_model_info_json(info_config(65, 2, 4, 64, 64)));
    ASSERT_TRUE(doc.IsObject());
    const auto& cfg = doc["config"];
    EXPECT_EQ(cfg["vocab_size"].GetInt(), 65);
    EXPECT_EQ(cfg["n_layer"].GetInt(), 2);
    EXPECT_EQ(cfg["n_head"].GetInt(), 4);
    EXPECT_EQ(cfg["n_embd"].GetInt(), 64);
    EXPECT_EQ(cfg["block_size"].GetInt(), 64);
    EXPECT_EQ(cfg["dropout"].GetDouble(), 0.0);
    EXPECT_FALSE(cfg["bias"].GetBool());

    const auto& root = doc["tree"];
    EXPECT_STREQ(root["name"].GetString(), "GPT");
    EXPECT_EQ(child_names(root),
              (std::vector<std::string>{"wte", "wpe", "h.0", "h.1", "ln_f", "lm_head"}));
    const auto& h1 = child(root, "h.1");
    EXPECT_STREQ(h1["type"].GetString(), "Block");
    EXPECT_EQ(child_names(h1), (std::vector<std::string>{"ln_1", "attn", "ln_2", "mlp"}));
    const auto& attn = child(h1, "attn");
    EXPECT_STREQ(attn["type"].GetString(), "CausalSelfAttention");
    EXPECT_EQ(child_names(attn), (std::vector<std::string>{"c_attn", "heads", "c_proj"}));
    const auto& heads = child(attn, "heads");
    EXPECT_STREQ(heads["type"].GetString(), "MultiHeadAttention");
    EXPECT_EQ(heads["params"].GetInt64(), 0);
    EXPECT_EQ(heads["n_head"].GetInt(), 4);
    const auto& mlp = child(h1, "mlp");
    EXPECT_EQ(child_names(mlp), (std::vector<std::string>{"c_fc", "gelu", "c_proj"}));
    EXPECT_EQ(child(mlp, "c_fc")["params"].GetInt64(), 64 * 256);

    // Shapes: symbolic batch and time, numeric widths.
    const auto& out = child(attn, "c_attn")["output_shape"];
    ASSERT_EQ(out.Size(), 3u);
    EXPECT_STREQ(out[0].GetString(), "B");
    EXPECT_STREQ(out[1].GetString(), "T");
    EXPECT_EQ(out[2].GetInt(), 192);
    EXPECT_EQ(child(root, "lm_head")["output_shape"][2].GetInt(), 65);

    EXPECT_EQ(check_sums(root), doc["total_params"].GetInt64());
}

TEST(ModelInfo, TotalParamsMatchesTheModel) {
    for (const auto& [vocab, layers, heads, embd, block] :
         std::vector<std::tuple<int, int, int, int, int>>{
             {65, 2, 4, 64, 64}, {5, 1, 2, 8, 4}, {99, 3, 3, 48, 128}}) {
        GptConfig g;
        g.vocab_size = vocab;
        g.n_layer = layers;
        g.n_head = heads;
        g.n_embd = embd;
        g.block_size = block;
        const GptModel<float> model(g);
        const trainscope::GptModelInfo m = info_config(vocab, layers, heads, embd, block);
        EXPECT_EQ(trainscope::gpt_model_params(m), static_cast<long long>(model.num_params()));
        EXPECT_EQ(parse(trainscope::gpt_model_info_json(m))["total_params"].GetInt64(),
                  static_cast<long long>(model.num_params()));
    }
}

TEST(ModelInfo, TiedHeadAndBiasChangeCounts) {
    trainscope::GptModelInfo m = info_config(65, 1, 4, 64, 64);
    const long long plain = trainscope::gpt_model_params(m);
    m.tied_lm_head = true;
    EXPECT_EQ(trainscope::gpt_model_params(m), plain - 65 * 64);
    m.tied_lm_head = false;
    m.bias = true;
    // Biases: ln_1, ln_2, ln_f (64 each), c_attn 192, attn c_proj 64, c_fc 256, mlp c_proj 64.
    EXPECT_EQ(trainscope::gpt_model_params(m), plain + 3 * 64 + 192 + 64 + 256 + 64);
}

TEST(JsonWriter, EscapesStrings) {
    std::string nasty = "quote\" back\\ nl\n tab\t bell\x07 nul";
    nasty.push_back('\0');
    nasty += "\xc3\xa9 end";  // UTF-8 passes through
    EXPECT_EQ(trainscope::json_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    EXPECT_EQ(trainscope::json_quote(std::string(1, '\x01')), "\"\\u0001\"");
    trainscope::JsonWriter w;
    w.begin_object()
        .key(nasty)
        .string(nasty)
        .key("list")
        .begin_array()
        .integer(-3)
        .number(0.1)
        .boolean(true)
        .null()
        .end_array()
        .end_object();
    const auto doc = parse(w.str());
    ASSERT_TRUE(doc.IsObject());
    ASSERT_TRUE(doc.HasMember(
        rapidjson::Value(nasty.c_str(), static_cast<rapidjson::SizeType>(nasty.size()))));
    const auto& v = doc.MemberBegin()->value;
    EXPECT_EQ(std::string(v.GetString(), v.GetStringLength()), nasty);
    EXPECT_EQ(doc["list"][0].GetInt(), -3);
    EXPECT_EQ(doc["list"][1].GetDouble(), 0.1);
    EXPECT_TRUE(doc["list"][2].GetBool());
    EXPECT_TRUE(doc["list"][3].IsNull());
}

TEST(JsonWriter, NumbersRoundTripAndNonFiniteIsNull) {
    for (double x : {0.0, 1e-3, 3e-4, 0.1, 1.0 / 3.0, 123456789.0, -2.5e-300}) {
        trainscope::JsonWriter w;
        w.begin_array().number(x).end_array();
        EXPECT_EQ(parse(w.str())[0].GetDouble(), x) << w.str();
    }
    trainscope::JsonWriter w;
    w.begin_array()
        .number(std::nan(""))
        .number(std::numeric_limits<double>::infinity())
        .end_array();
    EXPECT_EQ(w.str(), "[null,null]");
}

TEST(RunConfigJson, HasEveryHyperParameter) {
    TrainOptions o;
    o.name = "my \"run\"";
    o.batch_size = 12;
    o.block_size = 32;
    const auto doc = parse(build_run_config_json(o, 77, 2));
    for (const char* k :
         {"n_layer",   "n_head",        "n_embd",     "block_size",     "batch_size",
          "max_iters", "eval_interval", "eval_iters", "learning_rate",  "dropout",
          "seed",      "warmup_iters",  "min_lr",     "lr_decay_iters", "weight_decay",
          "grad_clip", "beta1",         "beta2",      "vocab_size",     "tokens_per_iter",
          "dataset"})
        EXPECT_TRUE(doc.HasMember(k)) << k;
    EXPECT_EQ(doc["tokens_per_iter"].GetInt(), 12 * 32);
    EXPECT_EQ(doc["vocab_size"].GetInt(), 77);
    EXPECT_EQ(doc["lr_decay_iters"].GetInt(), o.max_iters);
    EXPECT_STREQ(doc["name"].GetString(), "my \"run\"");
    EXPECT_STREQ(doc["dataset"].GetString(), o.data.c_str());
    EXPECT_EQ(doc["learning_rate"].GetDouble(), o.learning_rate);
}

}  // namespace
}  // namespace gpt
