// The trainer learns: on the default data a small model's loss drops well below the loss of
// a uniform guess, ln(vocab_size), within a few hundred steps.
#include <gtest/gtest.h>

#include <cmath>

#include "char_dataset.hpp"
#include "train_options.hpp"
#include "trainer.hpp"

namespace gpt {
namespace {

TEST(Learning, LossFallsWellBelowUniformGuess) {
    const CharDataset data = CharDataset::from_file(TrainOptions{}.data);
    TrainOptions o;
    o.n_layer = 1;
    o.n_head = 2;
    o.n_embd = 32;
    o.block_size = 32;
    o.batch_size = 16;
    o.max_iters = 300;
    o.learning_rate = 3e-3;
    o.min_lr = 3e-4;
    o.warmup_iters = 20;
    o.eval_iters = 10;
    o.seed = 1;
    Trainer trainer(o, data);

    const double uniform = std::log(static_cast<double>(data.vocab_size()));
    const EvalStats before = trainer.estimate_loss();
    EXPECT_NEAR(before.train_loss, uniform, 0.1 * uniform)
        << "a fresh model should guess uniformly";
    for (int i = 0; i < o.max_iters; ++i) {
        const StepStats s = trainer.step();
        ASSERT_TRUE(std::isfinite(s.loss)) << "at iteration " << i;
    }
    const EvalStats after = trainer.estimate_loss();
    EXPECT_LT(after.train_loss, 0.6 * uniform);
    EXPECT_LT(after.val_loss, 0.65 * uniform);
}

}  // namespace
}  // namespace gpt
