// Proves: format_ms (the timestamps of every point the agent sends) prints what "%.3f" prints,
// for wall-clock milliseconds, small and negative values, and values on rounding edges.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "serve/json_out.hpp"

namespace {

std::string printf_ms(double ms) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", ms);
    return buf;
}

std::string fast_ms(double ms) {
    char buf[48];
    return std::string(buf, trainscope::agent::format_ms(buf, sizeof buf, ms));
}

TEST(FormatMs, MatchesPrintfForWallClockTimes) {
    std::mt19937_64 rng(7);
    // Today's wall clock in ms, at the microsecond precision the SDK's nanoseconds give.
    std::uniform_int_distribution<long long> ns(1'700'000'000'000'000'000LL, 1'900'000'000'000'000'000LL);
    for (int i = 0; i < 200'000; ++i) {
        double ms = static_cast<double>(ns(rng)) / 1e6;
        ASSERT_EQ(fast_ms(ms), printf_ms(ms)) << i;
    }
}

TEST(FormatMs, MatchesPrintfForSmallNegativeAndEdgeValues) {
    for (double ms : {0.0, -0.0004, 0.0004, 0.0005, 0.9995, 1.0, 12.5, -12.5, -1.0005, 999.9999, 1e-9,
                      1764892800123.456, 1764892800123.4565, 86'400'000.0, -86'400'000.25})
        EXPECT_EQ(fast_ms(ms), printf_ms(ms)) << ms;
    EXPECT_EQ(fast_ms(1e300), "") << "does not fit: write_ms falls back to the exponent form";
    EXPECT_EQ(fast_ms(std::nan("")), "") << "not finite: write_ms writes null";
}

}  // namespace
