#include "sequence_pass.hpp"

#include <algorithm>

#include "tensor_ops.hpp"

namespace gpt {

template <class T>
SequenceWorkspace<T>::SequenceWorkspace(const GptConfig& config) {
    const std::size_t N = config.block_size, C = config.n_embd, H = config.n_head;
    const std::size_t V = config.vocab_size;
    blocks.resize(config.n_layer);
    for (BlockActivations<T>& b : blocks) {
        b.resid_in.resize(N * C);
        b.ln_1.resize(N * C);
        b.ln_1_mean.resize(N);
        b.ln_1_rstd.resize(N);
        b.qkv.resize(N * 3 * C);
        b.att.resize(H * N * N);
        b.attn_y.resize(N * C);
        b.resid_mid.resize(N * C);
        b.ln_2.resize(N * C);
        b.ln_2_mean.resize(N);
        b.ln_2_rstd.resize(N);
        b.fc.resize(N * 4 * C);
        b.fc_gelu.resize(N * 4 * C);
        b.fc_dgelu.resize(N * 4 * C);
    }
    resid_out.resize(N * C);
    ln_f.resize(N * C);
    ln_f_mean.resize(N);
    ln_f_rstd.resize(N);
    logits.resize(N * V);
    proj.resize(N * C);
    d_resid.resize(N * C);
    d_ln.resize(N * C);
    d_attn_y.resize(N * C);
    d_qkv.resize(N * 3 * C);
    d_fc.resize(N * 4 * C);
    d_gelu.resize(N * 4 * C);
    attn_scratch.resize(attention_scratch_size(config.block_size, config.n_embd));
}

namespace {

template <class T>
void add_into(T* dst, const T* src, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

/// Runs the network and the loss, leaving scale * dloss/dlogits in ws.logits. `training` keeps
/// what only the backward pass needs.
template <class T>
double forward(const GptModel<T>& model, const int* tokens, const int* targets, int N,
               SequenceWorkspace<T>& ws, bool training, T scale) {
    const GptConfig& cfg = model.config();
    const ParamLayout& L = model.layout();
    const T* P = model.params().data();
    const int C = cfg.n_embd, V = cfg.vocab_size;
    const std::size_t NC = static_cast<std::size_t>(N) * C;

    // Token plus position embedding.
    T* x = ws.blocks.empty() ? ws.resid_out.data() : ws.blocks[0].resid_in.data();
    for (int t = 0; t < N; ++t) {
        const T* te = P + L.wte + static_cast<std::size_t>(tokens[t]) * C;
        const T* pe = P + L.wpe + static_cast<std::size_t>(t) * C;
        for (int c = 0; c < C; ++c) x[t * C + c] = te[c] + pe[c];
    }

    for (int l = 0; l < cfg.n_layer; ++l) {
        BlockActivations<T>& a = ws.blocks[l];
        const BlockOffsets& o = L.blocks[l];
        // x = x + attn(ln_1(x))
        layernorm_forward(a.ln_1.data(), a.ln_1_mean.data(), a.ln_1_rstd.data(), a.resid_in.data(),
                          P + o.ln_1, N, C);
        matmul_forward(a.qkv.data(), a.ln_1.data(), P + o.c_attn, N, C, 3 * C);
        attention_forward(a.attn_y.data(), a.att.data(), ws.attn_scratch.data(), a.qkv.data(), N, C,
                          cfg.n_head);
        matmul_forward(ws.proj.data(), a.attn_y.data(), P + o.attn_proj, N, C, C);
        std::copy(a.resid_in.begin(), a.resid_in.begin() + NC, a.resid_mid.begin());
        add_into(a.resid_mid.data(), ws.proj.data(), NC);
        // x = x + mlp(ln_2(x))
        layernorm_forward(a.ln_2.data(), a.ln_2_mean.data(), a.ln_2_rstd.data(), a.resid_mid.data(),
                          P + o.ln_2, N, C);
        matmul_forward(a.fc.data(), a.ln_2.data(), P + o.c_fc, N, C, 4 * C);
        gelu_forward(a.fc_gelu.data(), training ? a.fc_dgelu.data() : nullptr, a.fc.data(),
                     N * 4 * C);
        matmul_forward(ws.proj.data(), a.fc_gelu.data(), P + o.mlp_proj, N, 4 * C, C);
        T* next = (l + 1 < cfg.n_layer) ? ws.blocks[l + 1].resid_in.data() : ws.resid_out.data();
        std::copy(a.resid_mid.begin(), a.resid_mid.begin() + NC, next);
        add_into(next, ws.proj.data(), NC);
    }

    layernorm_forward(ws.ln_f.data(), ws.ln_f_mean.data(), ws.ln_f_rstd.data(), ws.resid_out.data(),
                      P + L.ln_f, N, C);
    matmul_forward(ws.logits.data(), ws.ln_f.data(), P + L.lm_head, N, C, V);
    return cross_entropy(ws.logits.data(), targets, N, V, scale);
}

}  // namespace

template <class T>
double sequence_loss(const GptModel<T>& model, const int* tokens, const int* targets, int N,
                     SequenceWorkspace<T>& ws) {
    return forward(model, tokens, targets, N, ws, false, T(0));
}

template <class T>
double sequence_loss_and_grad(const GptModel<T>& model, const int* tokens, const int* targets,
                              int N, T scale, SequenceWorkspace<T>& ws, T* grads) {
    const double loss = forward(model, tokens, targets, N, ws, true, scale);

    const GptConfig& cfg = model.config();
    const ParamLayout& L = model.layout();
    const T* P = model.params().data();
    const T* PT = model.transposed().data();
    const int C = cfg.n_embd, V = cfg.vocab_size;
    T* G = grads;

    // lm_head and the final LayerNorm. d_resid is the gradient of the residual stream.
    matmul_backward(ws.d_ln.data(), G + L.lm_head, ws.logits.data(), ws.ln_f.data(), PT + L.lm_head,
                    N, C, V);
    std::fill(ws.d_resid.begin(), ws.d_resid.end(), T(0));
    layernorm_backward(ws.d_resid.data(), G + L.ln_f, ws.d_ln.data(), ws.resid_out.data(),
                       P + L.ln_f, ws.ln_f_mean.data(), ws.ln_f_rstd.data(), N, C);

    for (int l = cfg.n_layer - 1; l >= 0; --l) {
        const BlockActivations<T>& a = ws.blocks[l];
        const BlockOffsets& o = L.blocks[l];
        // MLP branch. The residual path passes d_resid through unchanged; the branch adds to it.
        matmul_backward(ws.d_gelu.data(), G + o.mlp_proj, ws.d_resid.data(), a.fc_gelu.data(),
                        PT + o.mlp_proj, N, 4 * C, C);
        gelu_backward(ws.d_fc.data(), a.fc_dgelu.data(), ws.d_gelu.data(), N * 4 * C);
        matmul_backward(ws.d_ln.data(), G + o.c_fc, ws.d_fc.data(), a.ln_2.data(), PT + o.c_fc, N,
                        C, 4 * C);
        layernorm_backward(ws.d_resid.data(), G + o.ln_2, ws.d_ln.data(), a.resid_mid.data(),
                           P + o.ln_2, a.ln_2_mean.data(), a.ln_2_rstd.data(), N, C);
        // Attention branch.
        matmul_backward(ws.d_attn_y.data(), G + o.attn_proj, ws.d_resid.data(), a.attn_y.data(),
                        PT + o.attn_proj, N, C, C);
        attention_backward(ws.d_qkv.data(), ws.attn_scratch.data(), ws.d_attn_y.data(),
                           a.qkv.data(), a.att.data(), N, C, cfg.n_head);
        matmul_backward(ws.d_ln.data(), G + o.c_attn, ws.d_qkv.data(), a.ln_1.data(), PT + o.c_attn,
                        N, C, 3 * C);
        layernorm_backward(ws.d_resid.data(), G + o.ln_1, ws.d_ln.data(), a.resid_in.data(),
                           P + o.ln_1, a.ln_1_mean.data(), a.ln_1_rstd.data(), N, C);
    }

    // Embeddings: scatter the residual gradient back to the rows that were looked up.
    for (int t = 0; t < N; ++t) {
        T* gte = G + L.wte + static_cast<std::size_t>(tokens[t]) * C;
        T* gpe = G + L.wpe + static_cast<std::size_t>(t) * C;
        const T* d = ws.d_resid.data() + static_cast<std::size_t>(t) * C;
        for (int c = 0; c < C; ++c) {
            gte[c] += d[c];
            gpe[c] += d[c];
        }
    }
    return loss;
}

template struct SequenceWorkspace<float>;
template struct SequenceWorkspace<double>;
template double sequence_loss<float>(const GptModel<float>&, const int*, const int*, int,
                                     SequenceWorkspace<float>&);
template double sequence_loss<double>(const GptModel<double>&, const int*, const int*, int,
                                      SequenceWorkspace<double>&);
template double sequence_loss_and_grad<float>(const GptModel<float>&, const int*, const int*, int,
                                              float, SequenceWorkspace<float>&, float*);
template double sequence_loss_and_grad<double>(const GptModel<double>&, const int*, const int*, int,
                                               double, SequenceWorkspace<double>&, double*);

}  // namespace gpt
