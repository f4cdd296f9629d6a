#include "batch_runner.hpp"

#include <algorithm>
#include <stdexcept>

namespace gpt {

template <class T>
BatchRunner<T>::BatchRunner(const GptConfig& config, WorkerPool& pool, int batch_size)
    : pool_(pool), shards_(std::min(batch_size, kMaxShards)), seq_loss_(batch_size, 0.0) {
    if (batch_size <= 0) throw std::invalid_argument("batch_size must be positive");
    for (int w = 0; w < pool_.size(); ++w)
        workspaces_.push_back(std::make_unique<SequenceWorkspace<T>>(config));
    const std::size_t n_params = make_param_layout(config).total;
    shard_grads_.assign(shards_, std::vector<T>(n_params, T(0)));
}

template <class T>
double BatchRunner<T>::loss_and_grad(GptModel<T>& model, const Batch& batch, std::vector<T>& grad) {
    const int B = batch.batch_size, N = batch.seq_len;
    if (B != static_cast<int>(seq_loss_.size())) throw std::invalid_argument("batch size mismatch");
    model.refresh_transposed();
    const T scale = T(1) / (static_cast<T>(B) * static_cast<T>(N));
    const int workers = pool_.size();

    pool_.run([&](int w) {
        SequenceWorkspace<T>& ws = *workspaces_[w];
        for (int s = w; s < shards_; s += workers) {
            std::vector<T>& g = shard_grads_[s];
            std::fill(g.begin(), g.end(), T(0));
            for (int b = s; b < B; b += shards_) {
                const std::size_t at = static_cast<std::size_t>(b) * N;
                seq_loss_[b] =
                    sequence_loss_and_grad(model, batch.tokens.data() + at,
                                           batch.targets.data() + at, N, scale, ws, g.data());
            }
        }
    });

    // Reduce: each worker sums a slice of the parameters, always in shard order.
    const std::size_t n = model.num_params();
    grad.resize(n);
    pool_.run([&](int w) {
        const std::size_t lo = n * w / workers, hi = n * (w + 1) / workers;
        std::copy(shard_grads_[0].begin() + lo, shard_grads_[0].begin() + hi, grad.begin() + lo);
        for (int s = 1; s < shards_; ++s) {
            const T* src = shard_grads_[s].data();
            for (std::size_t i = lo; i < hi; ++i) grad[i] += src[i];
        }
    });

    double total = 0;
    for (double l : seq_loss_) total += l;
    return total / (static_cast<double>(B) * N);
}

template <class T>
double BatchRunner<T>::loss(const GptModel<T>& model, const Batch& batch) {
    const int B = batch.batch_size, N = batch.seq_len;
    if (B != static_cast<int>(seq_loss_.size())) throw std::invalid_argument("batch size mismatch");
    const int workers = pool_.size();
    pool_.run([&](int w) {
        for (int b = w; b < B; b += workers) {
            const std::size_t at = static_cast<std::size_t>(b) * N;
            seq_loss_[b] = sequence_loss(model, batch.tokens.data() + at, batch.targets.data() + at,
                                         N, *workspaces_[w]);
        }
    });
    double total = 0;
    for (double l : seq_loss_) total += l;
    return total / (static_cast<double>(B) * N);
}

template class BatchRunner<float>;
template class BatchRunner<double>;

}  // namespace gpt
