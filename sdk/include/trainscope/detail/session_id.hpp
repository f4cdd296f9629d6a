// Session ids: ULID-like, 26 characters of Crockford base32 — 48 bits of milliseconds since
// the Unix epoch, then 80 random bits. They sort by creation time and do not collide across
// machines.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

/// The run id of a torchrun job (TORCHELASTIC_RUN_ID, unset or "none" outside one), as a
/// session id every rank derives alike: kept when valid, else (torchrun's --standalone uses a
/// 36-character UUID) "job-" and 16 hex digits of its FNV-1a hash. Empty: not under torchrun.
inline std::string torchelastic_session_id() {
    const char* env = std::getenv("TORCHELASTIC_RUN_ID");
    if (!env || !*env || std::string(env) == "none") return {};
    std::string id = env;
    if (valid_session_id(id)) return id;
    std::uint64_t hash = 14695981039346656037ULL;
    for (unsigned char c : id) hash = (hash ^ c) * 1099511628211ULL;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return "job-" + std::string(hex);
}

/// This process's rank in a distributed job: RANK, else LOCAL_RANK (both set by torchrun),
/// else 0.
inline int rank_from_environment() {
    for (const char* name : {"RANK", "LOCAL_RANK"})
        if (const char* env = std::getenv(name); env && *env) return std::atoi(env);
    return 0;
}

}  // namespace trainscope::detail
