// Session ids: ULID-like, 26 characters of Crockford base32 — 48 bits of milliseconds since
// the Unix epoch, then 80 random bits. They sort by creation time and do not collide across
// machines.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace trainscope::detail {

inline std::string make_session_id(std::int64_t unix_ms) {
    static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::random_device entropy;  // getrandom(2) on Linux
    std::uint64_t time_bits = static_cast<std::uint64_t>(unix_ms) & ((1ULL << 48) - 1);
    std::uint64_t rand_hi = (std::uint64_t{entropy()} << 16) ^ entropy();  // 16 bits used
    std::uint64_t rand_lo = (std::uint64_t{entropy()} << 32) | entropy();  // 64 bits used
    // 128 bits = time(48) | rand(80), written as 26 five-bit digits (the first holds 3 bits).
    std::uint64_t hi = (time_bits << 16) | (rand_hi & 0xFFFF);
    std::uint64_t lo = rand_lo;
    std::string out(26, '0');
    for (int i = 25; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kAlphabet[lo & 31];
        lo = (lo >> 5) | (hi << 59);
        hi >>= 5;
    }
    return out;
}

/// A user-supplied run id (TRAINSCOPE_RUN_ID) is accepted when it is 1..31 characters of
/// [A-Za-z0-9._-], not starting with '.': it ends up in file names, URLs and SQL, so nothing else gets through.
inline bool valid_session_id(const std::string& id) {
    // A leading '.' would allow "." and "..", which no URL path can name.
    if (id.empty() || id.size() > 31 || id[0] == '.') return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

}  // namespace trainscope::detail
