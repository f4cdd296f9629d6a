// Learning-rate schedule, gradient clipping, and AdamW's update and decay groups.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lr_schedule.hpp"
#include "optimizer.hpp"
#include "param_layout.hpp"

namespace gpt {
namespace {

TEST(LrSchedule, WarmupThenCosineToMin) {
    LrSchedule s;
    s.learning_rate = 1e-3;
    s.min_lr = 1e-4;
    s.warmup_iters = 100;
    s.lr_decay_iters = 1100;
    EXPECT_DOUBLE_EQ(get_lr(0, s), 1e-3 / 101);
    EXPECT_DOUBLE_EQ(get_lr(49, s), 1e-3 * 50 / 101);
    EXPECT_DOUBLE_EQ(get_lr(100, s), 1e-3);                 // cos(0): the peak
    EXPECT_NEAR(get_lr(600, s), (1e-3 + 1e-4) / 2, 1e-12);  // half way down the cosine
    EXPECT_NEAR(get_lr(1100, s), 1e-4, 1e-12);
    EXPECT_DOUBLE_EQ(get_lr(5000, s), 1e-4);
    for (int it = 101; it <= 1100; ++it) EXPECT_LE(get_lr(it, s), get_lr(it - 1, s)) << it;
}

TEST(LrSchedule, NoDecayWindowGoesToMin) {
    LrSchedule s;
    s.warmup_iters = 10;
    s.lr_decay_iters = 10;
    EXPECT_DOUBLE_EQ(get_lr(10, s), s.min_lr);
}

TEST(ClipGradNorm, ScalesToMaxNormAndReportsTheNormBefore) {
    std::vector<float> g = {3, 4};
    EXPECT_DOUBLE_EQ(clip_grad_norm(g, 1.0), 5.0);
    EXPECT_NEAR(g[0], 0.6, 1e-6);
    EXPECT_NEAR(g[1], 0.8, 1e-6);
    std::vector<float> small = {0.3f, 0.4f};
    EXPECT_NEAR(clip_grad_norm(small, 1.0), 0.5, 1e-7);
    EXPECT_EQ(small, (std::vector<float>{0.3f, 0.4f}));
    std::vector<float> off = {30, 40};
    clip_grad_norm(off, 0.0);
    EXPECT_EQ(off, (std::vector<float>{30, 40}));
}

/// A one-layer model of two-wide embeddings: every kind of parameter, a few of each.
GptConfig tiny_config() {
    GptConfig c;
    c.vocab_size = 3;
    c.block_size = 2;
    c.n_layer = 1;
    c.n_head = 1;
    c.n_embd = 2;
    return c;
}

TEST(AdamW, FirstStepMovesByLrAgainstTheGradientSign) {
    const ParamLayout layout = make_param_layout(tiny_config());
    AdamWConfig cfg;
    cfg.weight_decay = 0.0;
    AdamW opt(layout, cfg);
    std::vector<float> p(layout.total, 1.0f), g(layout.total, 0.0f);
    g[0] = 2.0f;
    g[1] = -0.5f;
    opt.step(p, g, 0.01);
    // m_hat = g and v_hat = g^2 after one step, so the update is lr * sign(g).
    EXPECT_NEAR(p[0], 0.99f, 1e-6);
    EXPECT_NEAR(p[1], 1.01f, 1e-6);
    EXPECT_EQ(p[2], 1.0f);
}

TEST(AdamW, DecaysMatricesButNotLayerNormWeights) {
    const ParamLayout layout = make_param_layout(tiny_config());
    AdamWConfig cfg;
    cfg.weight_decay = 0.5;
    AdamW opt(layout, cfg);
    std::vector<float> p(layout.total, 1.0f), g(layout.total, 0.0f);
    opt.step(p, g, 0.1);
    int decayed = 0, kept = 0;
    for (const ParamTensor& t : layout.tensors) {
        const float expected = t.is_matrix ? 0.95f : 1.0f;  // 1 - lr * weight_decay
        for (std::size_t i = 0; i < t.size(); ++i)
            EXPECT_NEAR(p[t.offset + i], expected, 1e-6) << t.name;
        (t.is_matrix ? decayed : kept) += 1;
    }
    EXPECT_EQ(kept, 3);     // ln_1, ln_2, ln_f
    EXPECT_EQ(decayed, 7);  // wte, wpe, c_attn, attn c_proj, c_fc, mlp c_proj, lm_head
}

}  // namespace
}  // namespace gpt
