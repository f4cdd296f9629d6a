// Forward and backward pass of the GPT over one sequence. A worker thread owns one
// SequenceWorkspace and runs sequences through it one after another.
#pragma once

#include <vector>

#include "gpt_config.hpp"
#include "model.hpp"

namespace gpt {

/// What one block keeps from the forward pass for its backward pass (rows = positions).
template <class T>
struct BlockActivations {
    std::vector<T> resid_in;                    ///< (N, C) block input
    std::vector<T> ln_1, ln_1_mean, ln_1_rstd;  ///< (N, C), (N), (N)
    std::vector<T> qkv;                         ///< (N, 3C)
    std::vector<T> att;                         ///< (H, N, N) softmax probabilities
    std::vector<T> attn_y;                      ///< (N, C) heads' output before c_proj
    std::vector<T> resid_mid;                   ///< (N, C) after the attention residual
    std::vector<T> ln_2, ln_2_mean, ln_2_rstd;
    std::vector<T> fc, fc_gelu;  ///< (N, 4C) before and after GELU
    std::vector<T> fc_dgelu;     ///< (N, 4C) GELU's derivative at fc
};

/// All activations and activation gradients of one sequence of up to block_size tokens.
template <class T>
struct SequenceWorkspace {
    explicit SequenceWorkspace(const GptConfig& config);

    std::vector<BlockActivations<T>> blocks;
    std::vector<T> resid_out;  ///< (N, C) last block's output
    std::vector<T> ln_f, ln_f_mean, ln_f_rstd;
    std::vector<T> logits;  ///< (N, V); the loss turns them into dlogits
    // Scratch for the backward pass, reused by every block.
    std::vector<T> proj;                     ///< (N, C) a projection before the residual add
    std::vector<T> d_resid, d_ln, d_attn_y;  ///< (N, C)
    std::vector<T> d_qkv;                    ///< (N, 3C)
    std::vector<T> d_fc, d_gelu;             ///< (N, 4C)
    std::vector<T> attn_scratch;             ///< see attention_scratch_size()
};

/// Summed cross-entropy over the N positions of one sequence (forward only).
template <class T>
double sequence_loss(const GptModel<T>& model, const int* tokens, const int* targets, int N,
                     SequenceWorkspace<T>& ws);

/// Forward and backward: adds scale * d(summed loss)/d(params) into `grads` (laid out like
/// the parameters) and returns the summed loss. Use scale = 1/(tokens in the batch) to get the
/// gradient of the mean loss.
template <class T>
double sequence_loss_and_grad(const GptModel<T>& model, const int* tokens, const int* targets,
                              int N, T scale, SequenceWorkspace<T>& ws, T* grads);

}  // namespace gpt
