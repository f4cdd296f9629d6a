#include "tensor_ops.hpp"

#include "fast_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

// Loops are i-k-j with the innermost loop running over contiguous memory, so the compiler
// can vectorize it; four k values are folded into each pass to cut loads and stores of the
// output row by four. __restrict tells the compiler the arrays never overlap.
//
// GPT_HOT clones a function for AVX2+FMA CPUs (x86-64-v3); the dynamic loader picks the
// clone at start-up, so the binary runs on any x86-64 and uses 8-wide FMA where it can.
// Results are deterministic on a given machine, but FMA rounding differs between the clones.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GPT_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GPT_HOT
#endif

namespace gpt {

template <class T>
GPT_HOT void matmul_forward(T* out, const T* in, const T* w, int N, int K, int M) {
    for (int i = 0; i < N; ++i) {
        T* __restrict o = out + static_cast<long>(i) * M;
        const T* a = in + static_cast<long>(i) * K;
        std::fill(o, o + M, T(0));
        int k = 0;
        for (; k + 4 <= K; k += 4) {
            const T a0 = a[k], a1 = a[k + 1], a2 = a[k + 2], a3 = a[k + 3];
            const T* __restrict w0 = w + static_cast<long>(k) * M;
            const T* __restrict w1 = w0 + M;
            const T* __restrict w2 = w1 + M;
            const T* __restrict w3 = w2 + M;
            for (int j = 0; j < M; ++j) o[j] += a0 * w0[j] + a1 * w1[j] + a2 * w2[j] + a3 * w3[j];
        }
        for (; k < K; ++k) {
            const T a0 = a[k];
            const T* __restrict w0 = w + static_cast<long>(k) * M;
            for (int j = 0; j < M; ++j) o[j] += a0 * w0[j];
        }
    }
}

template <class T>
GPT_HOT void matmul_backward(T* din, T* dw, const T* dout, const T* in, const T* wt, int N, int K,
                             int M) {
    // din = dout @ w^T is a forward matmul against the transposed weights.
    matmul_forward(din, dout, wt, N, M, K);
    // dw += in^T @ dout: rows of dout scaled by columns of in, four rows per pass.
    int i = 0;
    for (; i + 4 <= N; i += 4) {
        const T* a0 = in + static_cast<long>(i) * K;
        const T* a1 = a0 + K;
        const T* a2 = a1 + K;
        const T* a3 = a2 + K;
        const T* __restrict d0 = dout + static_cast<long>(i) * M;
        const T* __restrict d1 = d0 + M;
        const T* __restrict d2 = d1 + M;
        const T* __restrict d3 = d2 + M;
        for (int k = 0; k < K; ++k) {
            T* __restrict g = dw + static_cast<long>(k) * M;
            const T b0 = a0[k], b1 = a1[k], b2 = a2[k], b3 = a3[k];
            for (int j = 0; j < M; ++j) g[j] += b0 * d0[j] + b1 * d1[j] + b2 * d2[j] + b3 * d3[j];
        }
    }
    for (; i < N; ++i) {
        const T* a0 = in + static_cast<long>(i) * K;
        const T* __restrict d0 = dout + static_cast<long>(i) * M;
        for (int k = 0; k < K; ++k) {
            T* __restrict g = dw + static_cast<long>(k) * M;
            const T b0 = a0[k];
            for (int j = 0; j < M; ++j) g[j] += b0 * d0[j];
        }
    }
}

template <class T>
GPT_HOT void layernorm_forward(T* out, T* mean, T* rstd, const T* in, const T* w, int N, int C) {
    constexpr T eps = T(1e-5);  // torch.nn.LayerNorm's default
    for (int i = 0; i < N; ++i) {
        const T* x = in + static_cast<long>(i) * C;
        T* y = out + static_cast<long>(i) * C;
        T m = 0;
        for (int j = 0; j < C; ++j) m += x[j];
        m /= C;
        T v = 0;
        for (int j = 0; j < C; ++j) v += (x[j] - m) * (x[j] - m);
        v /= C;  // biased variance, as torch
        const T r = T(1) / std::sqrt(v + eps);
        for (int j = 0; j < C; ++j) y[j] = (x[j] - m) * r * w[j];
        mean[i] = m;
        rstd[i] = r;
    }
}

template <class T>
GPT_HOT void layernorm_backward(T* din, T* dw, const T* dout, const T* in, const T* w,
                                const T* mean, const T* rstd, int N, int C) {
    for (int i = 0; i < N; ++i) {
        const T* x = in + static_cast<long>(i) * C;
        const T* dy = dout + static_cast<long>(i) * C;
        T* dx = din + static_cast<long>(i) * C;
        const T m = mean[i], r = rstd[i];
        // dx = r * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)), dnorm = dy * w.
        T mean_d = 0, mean_dn = 0;
        for (int j = 0; j < C; ++j) {
            const T norm = (x[j] - m) * r;
            const T dnorm = dy[j] * w[j];
            mean_d += dnorm;
            mean_dn += dnorm * norm;
        }
        mean_d /= C;
        mean_dn /= C;
        for (int j = 0; j < C; ++j) {
            const T norm = (x[j] - m) * r;
            dw[j] += dy[j] * norm;
            dx[j] += r * (dy[j] * w[j] - mean_d - norm * mean_dn);
        }
    }
}

template <class T>
GPT_HOT void gelu_forward(T* out, T* dgelu, const T* in, int n) {
    // Two loops so that each stays branch-free and vectorizes.
    if (dgelu) {
        for (int i = 0; i < n; ++i) {
            T cdf, pdf;
            normal_cdf_pdf(in[i], &cdf, &pdf);
            out[i] = in[i] * cdf;
            dgelu[i] = cdf + in[i] * pdf;
        }
    } else {
        for (int i = 0; i < n; ++i) {
            T cdf, pdf;
            normal_cdf_pdf(in[i], &cdf, &pdf);
            out[i] = in[i] * cdf;
        }
    }
}

template <class T>
GPT_HOT void gelu_backward(T* __restrict din, const T* __restrict dgelu, const T* __restrict dout,
                           int n) {
    for (int i = 0; i < n; ++i) din[i] = dout[i] * dgelu[i];
}

// Both attention passes copy one of K or V transposed, (C, N), into scratch: a head's dot
// products against all earlier positions then become one contiguous sweep per channel.

template <class T>
GPT_HOT void attention_forward(T* out, T* att, T* scratch, const T* qkv, int N, int C, int H) {
    const int hs = C / H;
    const long row = 3L * C;
    const T scale = T(1) / std::sqrt(T(hs));
    T* kt = scratch;
    for (int t = 0; t < N; ++t)
        for (int c = 0; c < C; ++c) kt[static_cast<long>(c) * N + t] = qkv[t * row + C + c];

    for (int h = 0; h < H; ++h) {
        for (int t = 0; t < N; ++t) {
            const int len = t + 1;  // causal: position t sees 0..t
            const T* q = qkv + t * row + h * hs;
            T* __restrict p = att + (static_cast<long>(h) * N + t) * N;
            std::fill(p, p + N, T(0));
            const T* kh = kt + static_cast<long>(h) * hs * N;
            int d = 0;
            for (; d + 4 <= hs; d += 4) {  // four channels per sweep, as in matmul_forward
                const T q0 = q[d] * scale, q1 = q[d + 1] * scale, q2 = q[d + 2] * scale,
                        q3 = q[d + 3] * scale;
                const T* __restrict k0 = kh + static_cast<long>(d) * N;
                const T* __restrict k1 = k0 + N;
                const T* __restrict k2 = k1 + N;
                const T* __restrict k3 = k2 + N;
                for (int t2 = 0; t2 < len; ++t2)
                    p[t2] += q0 * k0[t2] + q1 * k1[t2] + q2 * k2[t2] + q3 * k3[t2];
            }
            for (; d < hs; ++d) {
                const T qd = q[d] * scale;
                const T* __restrict k0 = kh + static_cast<long>(d) * N;
                for (int t2 = 0; t2 < len; ++t2) p[t2] += qd * k0[t2];
            }
            const T maxv = *std::max_element(p, p + len);
            for (int t2 = 0; t2 < len; ++t2) p[t2] = fast_exp(p[t2] - maxv);
            T sum = 0;
            for (int t2 = 0; t2 < len; ++t2) sum += p[t2];
            const T inv = T(1) / sum;
            for (int t2 = 0; t2 < len; ++t2) p[t2] *= inv;

            T* __restrict o = out + static_cast<long>(t) * C + h * hs;
            std::fill(o, o + hs, T(0));
            const T* vh = qkv + 2 * C + h * hs;
            int t2 = 0;
            for (; t2 + 4 <= len; t2 += 4) {
                const T p0 = p[t2], p1 = p[t2 + 1], p2 = p[t2 + 2], p3 = p[t2 + 3];
                const T* __restrict v0 = vh + t2 * row;
                const T* __restrict v1 = v0 + row;
                const T* __restrict v2 = v1 + row;
                const T* __restrict v3 = v2 + row;
                for (int d = 0; d < hs; ++d)
                    o[d] += p0 * v0[d] + p1 * v1[d] + p2 * v2[d] + p3 * v3[d];
            }
            for (; t2 < len; ++t2) {
                const T p0 = p[t2];
                const T* __restrict v0 = vh + t2 * row;
                for (int d = 0; d < hs; ++d) o[d] += p0 * v0[d];
            }
        }
    }
}

template <class T>
GPT_HOT void attention_backward(T* dqkv, T* scratch, const T* dout, const T* qkv, const T* att,
                                int N, int C, int H) {
    const int hs = C / H;
    const long row = 3L * C;
    const T scale = T(1) / std::sqrt(T(hs));
    T* vt = scratch;
    T* __restrict ds = scratch + static_cast<long>(C) * N;
    for (int t = 0; t < N; ++t)
        for (int c = 0; c < C; ++c) vt[static_cast<long>(c) * N + t] = qkv[t * row + 2 * C + c];
    std::fill(dqkv, dqkv + N * row, T(0));

    for (int h = 0; h < H; ++h) {
        for (int t = 0; t < N; ++t) {
            const int len = t + 1;
            const T* __restrict p = att + (static_cast<long>(h) * N + t) * N;
            const T* __restrict dy = dout + static_cast<long>(t) * C + h * hs;
            const T* __restrict q = qkv + t * row + h * hs;
            T* __restrict dq = dqkv + t * row + h * hs;
            // Through the weighted sum of values: dp[t2] = dy . v[t2], dv[t2] += p[t2] * dy.
            std::fill(ds, ds + len, T(0));
            const T* vh = vt + static_cast<long>(h) * hs * N;
            int d = 0;
            for (; d + 4 <= hs; d += 4) {
                const T g0 = dy[d], g1 = dy[d + 1], g2 = dy[d + 2], g3 = dy[d + 3];
                const T* __restrict v0 = vh + static_cast<long>(d) * N;
                const T* __restrict v1 = v0 + N;
                const T* __restrict v2 = v1 + N;
                const T* __restrict v3 = v2 + N;
                for (int t2 = 0; t2 < len; ++t2)
                    ds[t2] += g0 * v0[t2] + g1 * v1[t2] + g2 * v2[t2] + g3 * v3[t2];
            }
            for (; d < hs; ++d) {
                const T g0 = dy[d];
                const T* __restrict v0 = vh + static_cast<long>(d) * N;
                for (int t2 = 0; t2 < len; ++t2) ds[t2] += g0 * v0[t2];
            }
            for (int t2 = 0; t2 < len; ++t2) {
                const T pv = p[t2];
                T* __restrict dv = dqkv + t2 * row + 2 * C + h * hs;
                for (int d = 0; d < hs; ++d) dv[d] += pv * dy[d];
            }
            // Through the softmax: ds = p * (dp - sum(p * dp)), then the scaled q . k.
            T dot = 0;
            for (int t2 = 0; t2 < len; ++t2) dot += p[t2] * ds[t2];
            for (int t2 = 0; t2 < len; ++t2) ds[t2] = p[t2] * (ds[t2] - dot) * scale;
            for (int t2 = 0; t2 < len; ++t2) {
                const T s = ds[t2];
                const T* __restrict k = qkv + t2 * row + C + h * hs;
                T* __restrict dk = dqkv + t2 * row + C + h * hs;
                for (int d = 0; d < hs; ++d) {
                    dq[d] += s * k[d];
                    dk[d] += s * q[d];
                }
            }
        }
    }
}

template <class T>
GPT_HOT double cross_entropy(T* logits, const int* targets, int N, int V, T scale) {
    double loss = 0;
    for (int i = 0; i < N; ++i) {
        T* __restrict z = logits + static_cast<long>(i) * V;
        const T maxv = *std::max_element(z, z + V);
        const T target_logit = z[targets[i]];
        for (int j = 0; j < V; ++j) z[j] = fast_exp(z[j] - maxv);
        T sum = 0;
        for (int j = 0; j < V; ++j) sum += z[j];
        loss += static_cast<double>(maxv) + std::log(static_cast<double>(sum)) - target_logit;
        const T k = scale / sum;
        for (int j = 0; j < V; ++j) z[j] *= k;
        z[targets[i]] -= scale;
    }
    return loss;
}

template <class T>
void transpose(T* dst, const T* src, int rows, int cols) {
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            dst[static_cast<long>(c) * rows + r] = src[static_cast<long>(r) * cols + c];
}

#define GPT_INSTANTIATE(T)                                                                        \
    template void matmul_forward<T>(T*, const T*, const T*, int, int, int);                       \
    template void matmul_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);        \
    template void layernorm_forward<T>(T*, T*, T*, const T*, const T*, int, int);                 \
    template void layernorm_backward<T>(T*, T*, const T*, const T*, const T*, const T*, const T*, \
                                        int, int);                                                \
    template void gelu_forward<T>(T*, T*, const T*, int);                                         \
    template void gelu_backward<T>(T*, const T*, const T*, int);                                  \
    template void attention_forward<T>(T*, T*, T*, const T*, int, int, int);                      \
    template void attention_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);     \
    template double cross_entropy<T>(T*, const int*, int, int, T);                                \
    template void transpose<T>(T*, const T*, int, int);

GPT_INSTANTIATE(float)
GPT_INSTANTIATE(double)

#undef GPT_INSTANTIATE

}  // namespace gpt
