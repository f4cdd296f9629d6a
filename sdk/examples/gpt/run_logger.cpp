#include "run_logger.hpp"

namespace gpt {

RunLogger::RunLogger(const std::string& name, long long tokens_per_iter)
    : run_(name),
      tokens_per_iter_(static_cast<double>(tokens_per_iter)),
      loss_(run_.metric("train/loss")),
      lr_(run_.metric("lr")),
      iter_ms_(run_.metric("iter_ms")),
      tokens_per_s_(run_.metric("tokens_per_s")),
      grad_norm_(run_.metric("grad_norm")),
      val_loss_(run_.metric("val/loss")),
      train_eval_loss_(run_.metric("train_eval/loss")) {}

void RunLogger::on_step(const StepStats& s) {
    loss_.log(s.iter, s.loss);
    lr_.log(s.iter, s.lr);
    iter_ms_.log(s.iter, s.ms);
    tokens_per_s_.log(s.iter, s.ms > 0 ? tokens_per_iter_ * 1000.0 / s.ms : 0.0);
    grad_norm_.log(s.iter, s.grad_norm);
}

void RunLogger::on_eval(int iter, const EvalStats& e) {
    val_loss_.log(iter, e.val_loss);
    train_eval_loss_.log(iter, e.train_loss);
}

}  // namespace gpt
