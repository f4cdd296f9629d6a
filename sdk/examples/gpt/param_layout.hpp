// Where each parameter tensor lives inside the one flat parameter buffer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "gpt_config.hpp"

namespace gpt {

/// One named tensor: a rows x cols row-major block of the flat buffer (vectors have rows 1).
struct ParamTensor {
    std::string name;  ///< nanoGPT's state_dict name, e.g. "transformer.h.0.attn.c_attn.weight"
    std::size_t offset = 0;
    int rows = 1;
    int cols = 1;
    bool is_matrix = false;  ///< 2-D: gets weight decay and a transposed copy for backward

    std::size_t size() const { return static_cast<std::size_t>(rows) * cols; }
};

/// Offsets of one transformer block's tensors. Linear weights are stored (in, out) so the
/// forward matmul walks them row by row.
struct BlockOffsets {
    std::size_t ln_1;       ///< (C)
    std::size_t c_attn;     ///< (C, 3C): q | k | v
    std::size_t attn_proj;  ///< (C, C)
    std::size_t ln_2;       ///< (C)
    std::size_t c_fc;       ///< (C, 4C)
    std::size_t mlp_proj;   ///< (4C, C)
};

/// The whole model's layout. lm_head is its own matrix (not tied to wte).
struct ParamLayout {
    std::size_t wte = 0;  ///< (V, C)
    std::size_t wpe = 0;  ///< (block_size, C)
    std::vector<BlockOffsets> blocks;
    std::size_t ln_f = 0;     ///< (C)
    std::size_t lm_head = 0;  ///< (C, V)
    std::size_t total = 0;
    std::vector<ParamTensor> tensors;  ///< every tensor, in buffer order
};

/// Lays out every tensor of `config` back to back.
ParamLayout make_param_layout(const GptConfig& config);

}  // namespace gpt
