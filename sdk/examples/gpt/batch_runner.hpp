// Runs a batch through the model on all workers and combines their results.
#pragma once

#include <memory>
#include <vector>

#include "batch.hpp"
#include "model.hpp"
#include "sequence_pass.hpp"
#include "worker_pool.hpp"

namespace gpt {

/// Splits a batch by sequence across the pool's workers; each worker has its own activations.
///
/// Determinism: sequence b always adds its gradient into shard b % shards, in order of b, and
/// the shards are summed in shard order; per-sequence losses are summed in order of b. So the
/// result is bit-identical for a given batch whatever the thread count or timing. The price is
/// one gradient buffer per shard (shards = min(batch_size, kMaxShards)), which also caps the
/// useful thread count at kMaxShards.
template <class T>
class BatchRunner {
public:
    static constexpr int kMaxShards = 8;

    BatchRunner(const GptConfig& config, WorkerPool& pool, int batch_size);

    /// Mean cross-entropy over every token of the batch; `grad` receives its gradient.
    /// Refreshes the model's transposed weights first, so call it right after an update.
    double loss_and_grad(GptModel<T>& model, const Batch& batch, std::vector<T>& grad);

    /// Mean cross-entropy over every token of the batch (forward only).
    double loss(const GptModel<T>& model, const Batch& batch);

private:
    WorkerPool& pool_;
    int shards_;
    std::vector<std::unique_ptr<SequenceWorkspace<T>>> workspaces_;  // one per worker
    std::vector<std::vector<T>> shard_grads_;
    std::vector<double> seq_loss_;  // summed loss of each sequence of the batch
};

}  // namespace gpt
