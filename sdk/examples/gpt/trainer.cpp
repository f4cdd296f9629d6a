#include "trainer.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

namespace gpt {

namespace {

AdamWConfig adamw_config(const TrainOptions& o) {
    AdamWConfig c;
    c.beta1 = o.beta1;
    c.beta2 = o.beta2;
    c.weight_decay = o.weight_decay;
    return c;
}

LrSchedule lr_schedule(const TrainOptions& o) {
    LrSchedule s;
    s.learning_rate = o.learning_rate;
    s.min_lr = o.min_lr;
    s.warmup_iters = o.warmup_iters;
    s.lr_decay_iters = o.effective_lr_decay_iters();
    return s;
}

}  // namespace

GptConfig Trainer::make_config(const TrainOptions& o, const CharDataset& data) {
    if (data.val().size() <= static_cast<std::size_t>(o.block_size))
        throw std::invalid_argument("--block_size: " + std::to_string(o.block_size) +
                                    " is too long for the data: its validation split has " +
                                    std::to_string(data.val().size()) + " characters");
    GptConfig c;
    c.vocab_size = data.vocab_size();
    c.block_size = o.block_size;
    c.n_layer = o.n_layer;
    c.n_head = o.n_head;
    c.n_embd = o.n_embd;
    return c;
}

Trainer::Trainer(const TrainOptions& options, const CharDataset& data)
    : options_(options),
      data_(data),
      config_(make_config(options, data)),
      model_(config_),
      pool_(options.threads),
      runner_(config_, pool_, options.batch_size),
      optimizer_(model_.layout(), adamw_config(options)),
      schedule_(lr_schedule(options)),
      // Distinct streams from one seed: weights, training batches, evaluation batches.
      train_rng_(options.seed * 0x9E3779B97F4A7C15ull + 1),
      eval_rng_(options.seed * 0x9E3779B97F4A7C15ull + 2) {
    model_.init_weights(options.seed);
}

StepStats Trainer::step() {
    const auto t0 = std::chrono::steady_clock::now();
    StepStats s;
    s.iter = iter_;
    s.lr = get_lr(iter_, schedule_);
    const Batch batch =
        sample_batch(data_.train(), options_.batch_size, options_.block_size, train_rng_);
    s.loss = runner_.loss_and_grad(model_, batch, grad_);
    s.grad_norm = clip_grad_norm(grad_, options_.grad_clip);
    optimizer_.step(model_.params(), grad_, s.lr);
    ++iter_;
    s.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

EvalStats Trainer::estimate_loss() {
    EvalStats e;
    double sums[2] = {0, 0};
    const std::vector<int>* splits[2] = {&data_.train(), &data_.val()};
    for (int k = 0; k < 2; ++k)
        for (int i = 0; i < options_.eval_iters; ++i) {
            const Batch b =
                sample_batch(*splits[k], options_.batch_size, options_.block_size, eval_rng_);
            sums[k] += runner_.loss(model_, b);
        }
    e.train_loss = sums[0] / options_.eval_iters;
    e.val_loss = sums[1] / options_.eval_iters;
    return e;
}

}  // namespace gpt
