// The model-info document for Trainscope's /api/model-info: a GPT's config and layer tree.
// Self-contained (a plain config in, JSON text out) so it can move into the SDK later.
#pragma once

#include <string>

namespace gpt {

/// A nanoGPT-style GPT as described to the dashboard.
struct ModelInfoConfig {
    int vocab_size = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_embd = 0;
    int block_size = 0;
    double dropout = 0.0;
    bool bias = false;          ///< Linear and LayerNorm biases (nanoGPT's bias flag)
    bool tied_lm_head = false;  ///< lm_head shares wte's weights (counted once, under wte)
};

/// {"config": {...}, "tree": node, "total_params": N}, where node is
/// {"name", "type", "input_shape", "output_shape", "params", "children": [node...]} plus
/// type-specific attributes (e.g. "n_head"). Shapes use "B" and "T" for batch and time.
/// A parent's params is the sum of its children's.
std::string build_model_info_json(const ModelInfoConfig& config);

/// The parameter count the tree reports, without building the JSON.
long long model_info_total_params(const ModelInfoConfig& config);

}  // namespace gpt
