#include "train_loop.hpp"

#include <chrono>

namespace gpt {

TrainSummary run_training(Trainer& trainer, const TrainOptions& options, TrainObserver* observer,
                          std::FILE* out, const std::atomic<bool>* stop) {
    const auto t0 = std::chrono::steady_clock::now();
    TrainSummary summary;
    auto evaluate = [&](int it) {
        summary.last_eval = trainer.estimate_loss();
        if (out) {
            std::fprintf(out, "step %d: train loss %.4f, val loss %.4f\n", it,
                         summary.last_eval.train_loss, summary.last_eval.val_loss);
            std::fflush(out);
        }
        if (observer) observer->on_eval(it, summary.last_eval);
    };

    for (;;) {
        const int it = trainer.iter();
        if (stop && stop->load(std::memory_order_relaxed)) {
            summary.interrupted = true;
            evaluate(it);
            break;
        }
        if (it >= options.max_iters) {
            evaluate(it);
            break;
        }
        if (it % options.eval_interval == 0) evaluate(it);
        const StepStats s = trainer.step();
        if (observer) observer->on_step(s);
        if (out && s.iter % options.log_interval == 0) {
            std::fprintf(out, "iter %d: loss %.4f, time %.2fms\n", s.iter, s.loss, s.ms);
            std::fflush(out);
        }
    }
    summary.iters = trainer.iter();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return summary;
}

}  // namespace gpt
