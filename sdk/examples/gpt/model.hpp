// The GPT's parameters: one flat buffer, its layout, initialisation, and the transposed
// copies of the weight matrices that the backward pass reads.
#pragma once

#include <cstdint>
#include <vector>

#include "gpt_config.hpp"
#include "param_layout.hpp"

namespace gpt {

template <class T>
class GptModel {
public:
    /// Lays out the parameters; call init_weights() before use.
    explicit GptModel(const GptConfig& config);

    /// nanoGPT's init: N(0, 0.02) for embeddings and Linear weights, N(0, 0.02/sqrt(2*n_layer))
    /// for the two residual projections (c_proj), 1 for LayerNorm weights.
    void init_weights(std::uint64_t seed);

    /// Rebuilds the transposed weights from params(); call after every parameter update.
    void refresh_transposed();

    const GptConfig& config() const { return config_; }
    const ParamLayout& layout() const { return layout_; }
    std::size_t num_params() const { return layout_.total; }

    std::vector<T>& params() { return params_; }
    const std::vector<T>& params() const { return params_; }
    /// Same offsets as params(); each matrix stored (cols, rows).
    const std::vector<T>& transposed() const { return transposed_; }

private:
    GptConfig config_;
    ParamLayout layout_;
    std::vector<T> params_;
    std::vector<T> transposed_;
};

}  // namespace gpt
