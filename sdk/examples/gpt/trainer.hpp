// One training run's state and its two operations: a training step and an evaluation.
#pragma once

#include <vector>

#include "batch_runner.hpp"
#include "char_dataset.hpp"
#include "gpt_config.hpp"
#include "lr_schedule.hpp"
#include "model.hpp"
#include "optimizer.hpp"
#include "rng.hpp"
#include "train_options.hpp"
#include "worker_pool.hpp"

namespace gpt {

struct StepStats {
    int iter = 0;     ///< the iteration this step was (0-based)
    double loss = 0;  ///< mean loss of its batch, before the update
    double lr = 0;
    double grad_norm = 0;  ///< global norm before clipping
    double ms = 0;         ///< wall time of the whole step
};

struct EvalStats {
    double train_loss = 0;
    double val_loss = 0;
};

/// Owns the model, optimizer, workers and random streams. Same options and data give the same
/// losses bit for bit, whatever the thread count. `data` must outlive the Trainer.
class Trainer {
public:
    /// Throws std::invalid_argument when the data cannot fill a block_size window in either split.
    Trainer(const TrainOptions& options, const CharDataset& data);

    /// Samples a batch, runs forward and backward, clips, and applies one AdamW update.
    StepStats step();

    /// nanoGPT's estimate_loss: mean loss over eval_iters fresh batches of each split.
    EvalStats estimate_loss();

    int iter() const { return iter_; }
    const GptConfig& model_config() const { return config_; }
    const GptModel<float>& model() const { return model_; }
    int threads() const { return pool_.size(); }

private:
    static GptConfig make_config(const TrainOptions& o, const CharDataset& data);

    TrainOptions options_;
    const CharDataset& data_;
    GptConfig config_;
    GptModel<float> model_;
    WorkerPool pool_;
    BatchRunner<float> runner_;
    AdamW optimizer_;
    LrSchedule schedule_;
    Rng train_rng_;  // batches for training
    Rng eval_rng_;   // batches for evaluation: eval settings never change the training batches
    std::vector<float> grad_;
    int iter_ = 0;
};

}  // namespace gpt
