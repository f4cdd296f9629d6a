#include "model.hpp"

#include <cmath>
#include <string>

#include "rng.hpp"
#include "tensor_ops.hpp"

namespace gpt {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

template <class T>
GptModel<T>::GptModel(const GptConfig& config)
    : config_(config),
      layout_(make_param_layout(config)),
      params_(layout_.total, T(0)),
      transposed_(layout_.total, T(0)) {}

template <class T>
void GptModel<T>::init_weights(std::uint64_t seed) {
    Rng rng(seed);
    const double std_default = 0.02;
    // Scaled so the residual stream's variance does not grow with depth (GPT-2 paper).
    const double std_proj = 0.02 / std::sqrt(2.0 * config_.n_layer);
    for (const ParamTensor& t : layout_.tensors) {
        T* p = params_.data() + t.offset;
        if (!t.is_matrix) {
            for (std::size_t i = 0; i < t.size(); ++i) p[i] = T(1);
            continue;
        }
        const double std = ends_with(t.name, "c_proj.weight") ? std_proj : std_default;
        for (std::size_t i = 0; i < t.size(); ++i) p[i] = static_cast<T>(std * rng.normal());
    }
    refresh_transposed();
}

template <class T>
void GptModel<T>::refresh_transposed() {
    for (const ParamTensor& t : layout_.tensors) {
        if (!t.is_matrix) continue;
        transpose(transposed_.data() + t.offset, params_.data() + t.offset, t.rows, t.cols);
    }
}

template class GptModel<float>;
template class GptModel<double>;

}  // namespace gpt
