// exp and erf for float written so that loops calling them vectorize (libm's are scalar calls).
// double keeps libm: the gradient check runs in double and wants the exact functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gpt {

/// e^x to about 2e-7 relative error for x in [-87, 88]; smaller x gives 0-ish, larger is capped.
inline float exp_approx(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    // x = n ln2 + r with |r| <= ln2/2; adding 1.5 * 2^23 rounds x/ln2 to an integer n.
    const float shifter = 12582912.0f;
    const float nf = (x * 1.44269504088896341f + shifter) - shifter;
    const float r = (x - nf * 0.693145751953125f) - nf * 1.428606765330187e-06f;
    // Taylor series of e^r to r^6: the error r^7/7! is below 2e-7 on |r| <= ln2/2.
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    // 2^n built directly in the exponent bits.
    const std::int32_t bits = (static_cast<std::int32_t>(nf) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/// erf(z) to about 2e-7 absolute error (Abramowitz & Stegun 7.1.26), and e^(-z^2) as a by-product
/// (GELU's derivative needs it).
inline float erf_approx(float z, float* exp_neg_z2) {
    const float a = z < 0 ? -z : z;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = 1.061405429f;
    poly = poly * t - 1.453152027f;
    poly = poly * t + 1.421413741f;
    poly = poly * t - 0.284496736f;
    poly = poly * t + 0.254829592f;
    poly *= t;
    const float e = exp_approx(-a * a);
    *exp_neg_z2 = e;
    const float y = 1.0f - poly * e;
    return z < 0 ? -y : y;
}

inline float fast_exp(float x) {
    return exp_approx(x);
}
inline double fast_exp(double x) {
    return std::exp(x);
}

/// GELU's Gaussian CDF Phi(x) and density phi(x) at x.
inline void normal_cdf_pdf(float x, float* cdf, float* pdf) {
    float e = 0;
    const float erf = erf_approx(x * 0.70710678118654752f, &e);  // e = exp(-x^2 / 2)
    *cdf = 0.5f * (1.0f + erf);
    *pdf = 0.39894228040143268f * e;
}
inline void normal_cdf_pdf(double x, double* cdf, double* pdf) {
    *cdf = 0.5 * (1.0 + std::erf(x * 0.70710678118654752440));
    *pdf = 0.39894228040143267794 * std::exp(-0.5 * x * x);
}

}  // namespace gpt
