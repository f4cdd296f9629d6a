// Every knob of a training run, in nanoGPT's names, with this trainer's defaults.
#pragma once

#include <cstdint>
#include <string>

namespace gpt {

/// Defaults are sized for a 2-core machine: the loss falls well below ln(vocab) within
/// seconds and the whole run takes under a minute when the cores are free (see README.md).
struct TrainOptions {
    // Model.
    int n_layer = 2;
    int n_head = 4;
    int n_embd = 64;
    int block_size = 64;
    double dropout = 0.0;  ///< only 0 is supported: there is no dropout layer
    // Data and batching.
    std::string data = "/usr/share/common-licenses/GPL-3";
    int batch_size = 16;
    // Schedule and evaluation.
    int max_iters = 2000;
    int eval_interval = 250;
    int eval_iters = 20;
    int log_interval = 10;
    // Optimizer.
    double learning_rate = 1e-3;
    double min_lr = 1e-4;
    int warmup_iters = 100;
    int lr_decay_iters = -1;  ///< -1: max_iters
    double weight_decay = 0.1;
    double beta1 = 0.9;
    double beta2 = 0.99;     ///< nanoGPT's shakespeare_char value: few tokens per iteration
    double grad_clip = 1.0;  ///< 0 disables clipping
    // Run.
    std::uint64_t seed = 1337;
    int threads = 0;  ///< 0: std::thread::hardware_concurrency()
    std::string name = "gpt";
    bool no_log = false;  ///< skip the Trainscope Run entirely (for overhead measurements)

    int effective_lr_decay_iters() const { return lr_decay_iters < 0 ? max_iters : lr_decay_iters; }
};

}  // namespace gpt
