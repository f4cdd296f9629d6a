// The hand-written backward pass against central finite differences, in double precision,
// through the same multi-threaded batch path that training uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "batch_runner.hpp"
#include "model.hpp"
#include "rng.hpp"
#include "worker_pool.hpp"

namespace gpt {
namespace {

GptConfig tiny_config(int n_layer) {
    GptConfig c;
    c.vocab_size = 5;
    c.block_size = 4;
    c.n_layer = n_layer;
    c.n_head = 2;
    c.n_embd = 8;
    return c;
}

// Three sequences, so the batch spans several gradient shards and both workers; every token
// id appears, so every embedding row gets a gradient.
Batch tiny_batch() {
    Batch b;
    b.batch_size = 3;
    b.seq_len = 4;
    b.tokens = {0, 1, 2, 3, 4, 3, 2, 1, 1, 1, 0, 4};
    b.targets = {1, 2, 3, 4, 0, 2, 1, 0, 1, 0, 4, 3};
    return b;
}

// Larger-than-init random weights: with std 0.02 attention is almost uniform and the check
// would barely exercise the softmax's backward pass.
template <class T>
void randomize(GptModel<T>& model, std::uint64_t seed) {
    Rng rng(seed);
    for (const ParamTensor& t : model.layout().tensors)
        for (std::size_t i = 0; i < t.size(); ++i)
            model.params()[t.offset + i] =
                static_cast<T>(t.is_matrix ? 0.5 * rng.normal() : 1.0 + 0.3 * rng.normal());
}

// Up to eight entries of a tensor: its first and last, and six at random.
std::vector<std::size_t> sample_indices(const ParamTensor& t, Rng& rng) {
    std::vector<std::size_t> idx = {0, t.size() - 1};
    for (int k = 0; k < 6; ++k) idx.push_back(rng.uniform_int(t.size()));
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    return idx;
}

void check_gradients(int n_layer) {
    const GptConfig cfg = tiny_config(n_layer);
    GptModel<double> model(cfg);
    randomize(model, 7);
    WorkerPool pool(2);
    BatchRunner<double> runner(cfg, pool, 3);
    const Batch batch = tiny_batch();

    std::vector<double> grad;
    const double loss = runner.loss_and_grad(model, batch, grad);
    ASSERT_TRUE(std::isfinite(loss));
    EXPECT_NEAR(loss, runner.loss(model, batch), 1e-12)
        << "forward-only and training losses differ";

    Rng rng(11);
    const double eps = 1e-5;
    int checked = 0;
    for (const ParamTensor& t : model.layout().tensors) {
        double largest = 0;
        for (std::size_t i : sample_indices(t, rng)) {
            double& p = model.params()[t.offset + i];
            const double saved = p;
            p = saved + eps;
            const double up = runner.loss(model, batch);
            p = saved - eps;
            const double down = runner.loss(model, batch);
            p = saved;
            const double numeric = (up - down) / (2 * eps);
            const double analytic = grad[t.offset + i];
            const double err = std::abs(analytic - numeric) /
                               std::max(std::abs(analytic) + std::abs(numeric), 1e-8);
            EXPECT_LT(err, 1e-5) << t.name << "[" << i << "]: analytic " << analytic << ", numeric "
                                 << numeric;
            largest = std::max(largest, std::abs(analytic));
            ++checked;
        }
        // A tensor whose sampled gradients are all zero would make the check above vacuous.
        EXPECT_GT(largest, 1e-6) << t.name << " has no gradient";
    }
    EXPECT_GT(checked, 10 * n_layer);
}

TEST(GradientCheck, OneLayerMatchesFiniteDifferences) {
    check_gradients(1);
}

TEST(GradientCheck, TwoLayersMatchFiniteDifferences) {
    check_gradients(2);
}

// The float build (the one that trains) must compute the same gradient as the checked double
// build, up to float rounding.
TEST(GradientCheck, FloatAgreesWithDouble) {
    const GptConfig cfg = tiny_config(2);
    GptModel<double> md(cfg);
    GptModel<float> mf(cfg);
    randomize(md, 3);
    for (std::size_t i = 0; i < md.num_params(); ++i)
        mf.params()[i] = static_cast<float>(md.params()[i]);
    WorkerPool pool(2);
    BatchRunner<double> rd(cfg, pool, 3);
    BatchRunner<float> rf(cfg, pool, 3);
    std::vector<double> gd;
    std::vector<float> gf;
    const double ld = rd.loss_and_grad(md, tiny_batch(), gd);
    const double lf = rf.loss_and_grad(mf, tiny_batch(), gf);
    EXPECT_NEAR(ld, lf, 1e-4);
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < gd.size(); ++i) {
        diff += (gd[i] - gf[i]) * (gd[i] - gf[i]);
        norm += gd[i] * gd[i];
    }
    ASSERT_GT(norm, 0);
    EXPECT_LT(std::sqrt(diff / norm), 1e-2);
}

// Same batch, different thread counts: bit-identical loss and gradient.
TEST(GradientCheck, ThreadCountDoesNotChangeResult) {
    const GptConfig cfg = tiny_config(2);
    GptModel<float> model(cfg);
    randomize(model, 5);
    Batch batch;
    batch.batch_size = 11;  // more sequences than gradient shards
    batch.seq_len = 4;
    Rng rng(9);
    for (int i = 0; i < 44; ++i) {
        batch.tokens.push_back(static_cast<int>(rng.uniform_int(5)));
        batch.targets.push_back(static_cast<int>(rng.uniform_int(5)));
    }
    std::vector<float> g1, g3;
    WorkerPool pool1(1), pool3(3);
    BatchRunner<float> r1(cfg, pool1, 11), r3(cfg, pool3, 11);
    const double l1 = r1.loss_and_grad(model, batch, g1);
    const double l3 = r3.loss_and_grad(model, batch, g3);
    EXPECT_EQ(l1, l3);
    EXPECT_EQ(g1, g3);
}

}  // namespace
}  // namespace gpt
