// Model info for the dashboard's architecture view: a nanoGPT-style GPT's config and layer
// tree, built from its hyper-parameters so a trainer need not write it by hand.
//
//   trainscope::GptModelInfo m;  m.vocab_size = 65;  m.n_layer = 6;  ...
//   run.set_model_info(trainscope::gpt_model_info_json(m));
//
// Header-only, standard library only. Another architecture can send its own tree in the
// same shape (see README "Interfaces", GET /api/model-info).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <trainscope/json_writer.hpp>

namespace trainscope {


/// A nanoGPT-style GPT as described to the dashboard.
struct GptModelInfo {
    int vocab_size = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_embd = 0;
    int block_size = 0;
    double dropout = 0.0;
    bool bias = false;          ///< Linear and LayerNorm biases (nanoGPT's bias flag)
    bool tied_lm_head = false;  ///< lm_head shares wte's weights (counted once, under wte)
};



namespace detail {

// Shape entries: a size, or one of the symbolic dimensions.
constexpr long long kBatch = -1;
constexpr long long kTime = -2;

struct Node {
    std::string name;
    std::string type;
    std::vector<long long> input_shape;
    std::vector<long long> output_shape;
    long long params = 0;  // own parameters; parents get their children's sum added
    std::vector<std::pair<std::string, long long>> attributes;
    std::vector<Node> children;
};

inline Node leaf(std::string name, std::string type, std::vector<long long> in, std::vector<long long> out,
          long long params, std::vector<std::pair<std::string, long long>> attributes = {}) {
    Node n;
    n.name = std::move(name);
    n.type = std::move(type);
    n.input_shape = std::move(in);
    n.output_shape = std::move(out);
    n.params = params;
    n.attributes = std::move(attributes);
    return n;
}

inline Node parent(std::string name, std::string type, std::vector<long long> in,
            std::vector<long long> out, std::vector<Node> children) {
    Node n = leaf(std::move(name), std::move(type), std::move(in), std::move(out), 0);
    for (const Node& c : children) n.params += c.params;
    n.children = std::move(children);
    return n;
}

inline Node linear(std::string name, long long in, long long out, bool bias) {
    return leaf(std::move(name), "Linear", {kBatch, kTime, in}, {kBatch, kTime, out},
                in * out + (bias ? out : 0), {{"in_features", in}, {"out_features", out}});
}

inline Node layer_norm(std::string name, long long c, bool bias) {
    return leaf(std::move(name), "LayerNorm", {kBatch, kTime, c}, {kBatch, kTime, c},
                bias ? 2 * c : c, {{"normalized_shape", c}});
}

inline Node block(int index, const GptModelInfo& m) {
    const long long C = m.n_embd;
    const std::vector<long long> btc = {kBatch, kTime, C};
    Node attn = parent("attn", "CausalSelfAttention", btc, btc,
                       {linear("c_attn", C, 3 * C, m.bias),
                        leaf("heads", "MultiHeadAttention", {kBatch, kTime, 3 * C}, btc, 0,
                             {{"n_head", m.n_head}, {"head_size", m.n_head ? C / m.n_head : 0}}),
                        linear("c_proj", C, C, m.bias)});
    Node mlp = parent("mlp", "MLP", btc, btc,
                      {linear("c_fc", C, 4 * C, m.bias),
                       leaf("gelu", "GELU", {kBatch, kTime, 4 * C}, {kBatch, kTime, 4 * C}, 0),
                       linear("c_proj", 4 * C, C, m.bias)});
    return parent("h." + std::to_string(index), "Block", btc, btc,
                  {layer_norm("ln_1", C, m.bias), std::move(attn), layer_norm("ln_2", C, m.bias),
                   std::move(mlp)});
}

inline Node gpt_tree(const GptModelInfo& m) {
    const long long C = m.n_embd, V = m.vocab_size, T = m.block_size;
    std::vector<Node> children;
    children.push_back(leaf("wte", "Embedding", {kBatch, kTime}, {kBatch, kTime, C}, V * C,
                            {{"num_embeddings", V}, {"embedding_dim", C}}));
    children.push_back(leaf("wpe", "Embedding", {kTime}, {kTime, C}, T * C,
                            {{"num_embeddings", T}, {"embedding_dim", C}}));
    for (int i = 0; i < m.n_layer; ++i) children.push_back(block(i, m));
    children.push_back(layer_norm("ln_f", C, m.bias));
    Node head = linear("lm_head", C, V, false);  // nanoGPT's lm_head never has a bias
    if (m.tied_lm_head) head.params = 0;         // its weight is wte's, counted there
    children.push_back(std::move(head));
    return parent("GPT", "GPT", {kBatch, kTime}, {kBatch, kTime, V}, std::move(children));
}

inline void write_shape(JsonWriter& w, const std::vector<long long>& shape) {
    w.begin_array();
    for (long long d : shape) {
        if (d == kBatch)
            w.string("B");
        else if (d == kTime)
            w.string("T");
        else
            w.integer(d);
    }
    w.end_array();
}

inline void write_node(JsonWriter& w, const Node& n) {
    w.begin_object();
    w.key("name").string(n.name);
    w.key("type").string(n.type);
    w.key("input_shape");
    write_shape(w, n.input_shape);
    w.key("output_shape");
    write_shape(w, n.output_shape);
    w.key("params").integer(n.params);
    for (const auto& [k, v] : n.attributes) w.key(k).integer(v);
    w.key("children").begin_array();
    for (const Node& c : n.children) write_node(w, c);
    w.end_array();
    w.end_object();
}

}  // namespace detail

/// The parameter count the tree reports, without building the JSON.
inline long long gpt_model_params(const GptModelInfo& config) {
    return detail::gpt_tree(config).params;
}

/// {"config": {...}, "tree": node, "total_params": N}, where node is
/// {"name", "type", "input_shape", "output_shape", "params", "children": [node...]} plus
/// type-specific attributes (e.g. "n_head"). Shapes use "B" and "T" for batch and time.
/// A parent's params is the sum of its children's.
inline std::string gpt_model_info_json(const GptModelInfo& config) {
    const detail::Node tree = detail::gpt_tree(config);
    JsonWriter w;
    w.begin_object();
    w.key("config").begin_object();
    w.key("vocab_size").integer(config.vocab_size);
    w.key("n_layer").integer(config.n_layer);
    w.key("n_head").integer(config.n_head);
    w.key("n_embd").integer(config.n_embd);
    w.key("block_size").integer(config.block_size);
    w.key("dropout").number(config.dropout);
    w.key("bias").boolean(config.bias);
    w.key("tied_lm_head").boolean(config.tied_lm_head);
    w.end_object();
    w.key("tree");
    detail::write_node(w, tree);
    w.key("total_params").integer(tree.params);
    w.end_object();
    return w.str();
}

}  // namespace trainscope
