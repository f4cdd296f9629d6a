// Sends the training loop's measurements to a Trainscope Run.
#pragma once

#include <string>

#include <trainscope/trainscope.hpp>

#include "train_loop.hpp"

namespace gpt {

/// Logs every step (train/loss, lr, iter_ms, tokens_per_s, grad_norm) through interned Metric
/// handles and every evaluation (val/loss, train_eval/loss). Never throws after construction:
/// a Run that could not get shared memory just logs nothing.
class RunLogger : public TrainObserver {
public:
    RunLogger(const std::string& name, long long tokens_per_iter);

    trainscope::Run& run() { return run_; }

    void on_step(const StepStats& step) override;
    void on_eval(int iter, const EvalStats& eval) override;

private:
    trainscope::Run run_;
    double tokens_per_iter_;
    trainscope::Metric loss_, lr_, iter_ms_, tokens_per_s_, grad_norm_;
    trainscope::Metric val_loss_, train_eval_loss_;
};

}  // namespace gpt
