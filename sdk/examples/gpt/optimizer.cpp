#include "optimizer.hpp"

#include <cmath>

namespace gpt {

AdamW::AdamW(const ParamLayout& layout, const AdamWConfig& config)
    : config_(config), decay_(layout.total, 0), m_(layout.total, 0.0f), v_(layout.total, 0.0f) {
    for (const ParamTensor& t : layout.tensors)
        if (t.is_matrix)
            for (std::size_t i = 0; i < t.size(); ++i) decay_[t.offset + i] = 1;
}

void AdamW::step(std::vector<float>& params, const std::vector<float>& grads, double lr) {
    ++t_;
    const float b1 = static_cast<float>(config_.beta1), b2 = static_cast<float>(config_.beta2);
    const double bc1 = 1.0 - std::pow(config_.beta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(config_.beta2, static_cast<double>(t_));
    const float step_size = static_cast<float>(lr / bc1);
    const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
    const float eps = static_cast<float>(config_.eps);
    const float shrink = static_cast<float>(1.0 - lr * config_.weight_decay);
    const std::size_t n = params.size();
    for (std::size_t i = 0; i < n; ++i) {
        const float g = grads[i];
        if (decay_[i]) params[i] *= shrink;  // decoupled: the decay bypasses the moments
        m_[i] = b1 * m_[i] + (1.0f - b1) * g;
        v_[i] = b2 * v_[i] + (1.0f - b2) * g * g;
        params[i] -= step_size * m_[i] / (std::sqrt(v_[i]) * inv_sqrt_bc2 + eps);
    }
}

double clip_grad_norm(std::vector<float>& grads, double max_norm) {
    double sum = 0;
    for (float g : grads) sum += static_cast<double>(g) * g;
    const double norm = std::sqrt(sum);
    if (max_norm > 0 && norm > max_norm) {
        const float coef = static_cast<float>(max_norm / (norm + 1e-6));
        for (float& g : grads) g *= coef;
    }
    return norm;
}

}  // namespace gpt
