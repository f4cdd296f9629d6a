// AdamW as torch.optim.AdamW, and clipping by global gradient norm.
#pragma once

#include <vector>

#include "param_layout.hpp"

namespace gpt {

struct AdamWConfig {
    double beta1 = 0.9;
    double beta2 = 0.95;  // nanoGPT's default
    double eps = 1e-8;
    double weight_decay = 0.1;
};

/// AdamW with decoupled weight decay applied to 2-D tensors only (matrices and embeddings),
/// never to LayerNorm weights — nanoGPT's two parameter groups.
class AdamW {
public:
    AdamW(const ParamLayout& layout, const AdamWConfig& config);

    /// One update of `params` (laid out by `layout`) from `grads` at learning rate lr.
    void step(std::vector<float>& params, const std::vector<float>& grads, double lr);

    long steps_taken() const { return t_; }

private:
    AdamWConfig config_;
    std::vector<unsigned char> decay_;  // 1 where weight decay applies
    std::vector<float> m_, v_;
    long t_ = 0;
};

/// Global L2 norm of `grads` (computed in double), before clipping. When max_norm > 0 and the
/// norm exceeds it, scales grads down to max_norm (torch.nn.utils.clip_grad_norm_).
double clip_grad_norm(std::vector<float>& grads, double max_norm);

}  // namespace gpt
