// nanoGPT's outer loop: evaluate every eval_interval, step, print progress, tell an observer.
#pragma once

#include <atomic>
#include <cstdio>

#include "train_options.hpp"
#include "trainer.hpp"

namespace gpt {

/// Receives every measurement of the loop (the Trainscope logger implements it).
class TrainObserver {
public:
    virtual ~TrainObserver() = default;
    virtual void on_step(const StepStats& step) = 0;
    virtual void on_eval(int iter, const EvalStats& eval) = 0;
};

struct TrainSummary {
    int iters = 0;             ///< training steps taken
    EvalStats last_eval;       ///< the final evaluation
    bool interrupted = false;  ///< stopped early by the stop flag
    double seconds = 0;        ///< wall time of the loop
};

/// Trains until max_iters (evaluating at 0, every eval_interval, and at the end) or until
/// *stop becomes true. Prints "iter N: loss L, time Tms" every log_interval steps and
/// "step N: train loss X, val loss Y" per evaluation to `out` (may be null). `observer` may
/// be null.
TrainSummary run_training(Trainer& trainer, const TrainOptions& options, TrainObserver* observer,
                          std::FILE* out, const std::atomic<bool>* stop = nullptr);

}  // namespace gpt
