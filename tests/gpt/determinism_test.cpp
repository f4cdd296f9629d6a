// Same seed, same losses: bit for bit, whatever the thread count. A different seed differs.
#include <gtest/gtest.h>

#include <vector>

#include "char_dataset.hpp"
#include "train_options.hpp"
#include "trainer.hpp"

namespace gpt {
namespace {

TrainOptions small_options(std::uint64_t seed, int threads) {
    TrainOptions o;
    o.n_layer = 2;
    o.n_head = 2;
    o.n_embd = 32;
    o.block_size = 32;
    o.batch_size = 8;
    o.max_iters = 20;
    o.warmup_iters = 5;
    o.eval_iters = 2;
    o.seed = seed;
    o.threads = threads;
    return o;
}

struct Trace {
    std::vector<double> losses;
    std::vector<double> grad_norms;
    EvalStats eval;
};

Trace run(const CharDataset& data, std::uint64_t seed, int threads) {
    Trainer trainer(small_options(seed, threads), data);
    Trace t;
    for (int i = 0; i < 20; ++i) {
        const StepStats s = trainer.step();
        t.losses.push_back(s.loss);
        t.grad_norms.push_back(s.grad_norm);
    }
    t.eval = trainer.estimate_loss();
    return t;
}

class Determinism : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        data_ = new CharDataset(CharDataset::from_file(TrainOptions{}.data));
    }
    static void TearDownTestSuite() {
        delete data_;
        data_ = nullptr;
    }
    static CharDataset* data_;
};
CharDataset* Determinism::data_ = nullptr;

TEST_F(Determinism, SameSeedGivesIdenticalLosses) {
    const Trace a = run(*data_, 42, 2);
    const Trace b = run(*data_, 42, 2);
    ASSERT_EQ(a.losses.size(), 20u);
    EXPECT_EQ(a.losses, b.losses);
    EXPECT_EQ(a.grad_norms, b.grad_norms);
    EXPECT_EQ(a.eval.train_loss, b.eval.train_loss);
    EXPECT_EQ(a.eval.val_loss, b.eval.val_loss);
}

TEST_F(Determinism, ThreadCountDoesNotChangeLosses) {
    const Trace one = run(*data_, 42, 1);
    const Trace three = run(*data_, 42, 3);
    EXPECT_EQ(one.losses, three.losses);
    EXPECT_EQ(one.eval.val_loss, three.eval.val_loss);
}

TEST_F(Determinism, DifferentSeedGivesDifferentLosses) {
    const Trace a = run(*data_, 42, 2);
    const Trace b = run(*data_, 43, 2);
    int differing = 0;
    for (std::size_t i = 0; i < a.losses.size(); ++i) differing += a.losses[i] != b.losses[i];
    EXPECT_EQ(differing, 20) << "another seed should change every step's loss";
}

}  // namespace
}  // namespace gpt
