#include "param_layout.hpp"

namespace gpt {

namespace {

std::size_t add(ParamLayout& layout, std::string name, int rows, int cols, bool is_matrix) {
    ParamTensor t;
    t.name = std::move(name);
    t.offset = layout.total;
    t.rows = rows;
    t.cols = cols;
    t.is_matrix = is_matrix;
    layout.total += t.size();
    layout.tensors.push_back(std::move(t));
    return layout.tensors.back().offset;
}

}  // namespace

ParamLayout make_param_layout(const GptConfig& config) {
    const int C = config.n_embd;
    ParamLayout layout;
    layout.wte = add(layout, "transformer.wte.weight", config.vocab_size, C, true);
    layout.wpe = add(layout, "transformer.wpe.weight", config.block_size, C, true);
    for (int l = 0; l < config.n_layer; ++l) {
        const std::string p = "transformer.h." + std::to_string(l) + ".";
        BlockOffsets b;
        b.ln_1 = add(layout, p + "ln_1.weight", 1, C, false);
        b.c_attn = add(layout, p + "attn.c_attn.weight", C, 3 * C, true);
        b.attn_proj = add(layout, p + "attn.c_proj.weight", C, C, true);
        b.ln_2 = add(layout, p + "ln_2.weight", 1, C, false);
        b.c_fc = add(layout, p + "mlp.c_fc.weight", C, 4 * C, true);
        b.mlp_proj = add(layout, p + "mlp.c_proj.weight", 4 * C, C, true);
        layout.blocks.push_back(b);
    }
    layout.ln_f = add(layout, "transformer.ln_f.weight", 1, C, false);
    layout.lm_head = add(layout, "lm_head.weight", C, config.vocab_size, true);
    return layout;
}

}  // namespace gpt
