// A seedable random source whose output is the same on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace gpt {

/// mt19937_64 is fully specified by the standard; the standard distributions are not, so the
/// uniform and normal draws are written here to keep runs reproducible across libraries.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}

    std::uint64_t next_u64() { return engine_(); }

    /// Uniform integer in [0, n). The modulo bias is below 2^-40 for any n we use.
    std::uint64_t uniform_int(std::uint64_t n) { return engine_() % n; }

    /// Uniform double in [0, 1) with 53 random bits.
    double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    /// Standard normal draw (Box-Muller; the second value is thrown away for simplicity).
    double normal() {
        double u1 = 1.0 - uniform01();  // (0, 1]: log() stays finite
        double u2 = uniform01();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace gpt
