// The layers' math on contiguous row-major arrays, forward and backward, for one sequence.
// Templated on the scalar so the gradient check can run in double; built for float and
// double in tensor_ops.cpp. N is the number of rows (positions), other sizes as named.
#pragma once

namespace gpt {

/// out (N, M) = in (N, K) @ w (K, M).
template <class T>
void matmul_forward(T* out, const T* in, const T* w, int N, int K, int M);

/// For out = in @ w: din (N, K) = dout @ w^T (overwritten; `wt` is w transposed, (M, K)),
/// and dw (K, M) += in^T @ dout.
template <class T>
void matmul_backward(T* din, T* dw, const T* dout, const T* in, const T* wt, int N, int K, int M);

/// Bias-free LayerNorm over rows of width C: out = (in - mean) * rstd * w. Saves mean and
/// rstd (N each) for the backward pass.
template <class T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* in, const T* w, int N, int C);

/// Accumulates into din (the residual stream's gradient) and dw.
template <class T>
void layernorm_backward(T* din, T* dw, const T* dout, const T* in, const T* w, const T* mean,
                        const T* rstd, int N, int C);

/// Exact GELU, x * Phi(x), as torch.nn.GELU() (nanoGPT). When dgelu is not null it also
/// receives GELU'(in), so the backward pass is a plain multiply.
template <class T>
void gelu_forward(T* out, T* dgelu, const T* in, int n);

/// din = dout * dgelu (overwritten), dgelu as saved by gelu_forward.
template <class T>
void gelu_backward(T* din, const T* dgelu, const T* dout, int n);

/// Scratch values attention_forward and attention_backward need for N positions of width C.
inline long attention_scratch_size(int N, int C) {
    return static_cast<long>(C) * N + N;
}

/// Causal multi-head self-attention of one sequence. qkv is (N, 3C) laid out q | k | v, each
/// split into H heads of C/H. Saves the softmax probabilities in att (H, N, N); out is (N, C).
template <class T>
void attention_forward(T* out, T* att, T* scratch, const T* qkv, int N, int C, int H);

/// dqkv (N, 3C) overwritten.
template <class T>
void attention_backward(T* dqkv, T* scratch, const T* dout, const T* qkv, const T* att, int N,
                        int C, int H);

/// Softmax cross-entropy of N rows of V logits against `targets`. Returns the summed loss
/// (in double, so long sums stay exact enough) and overwrites the logits with
/// (softmax - onehot) * scale, the gradient of scale * loss.
template <class T>
double cross_entropy(T* logits, const int* targets, int N, int V, T scale);

/// Transposes a (rows, cols) matrix into dst (cols, rows).
template <class T>
void transpose(T* dst, const T* src, int rows, int cols);

}  // namespace gpt
