// nanoGPT's learning-rate schedule: linear warmup, then cosine decay to a floor.
#pragma once

namespace gpt {

struct LrSchedule {
    double learning_rate = 1e-3;
    double min_lr = 1e-4;
    int warmup_iters = 100;
    int lr_decay_iters = 5000;
};

/// The learning rate for iteration `it` (nanoGPT's get_lr).
double get_lr(int it, const LrSchedule& s);

}  // namespace gpt
