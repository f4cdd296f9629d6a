// Facts about processes that both sides need: the default namespace, segment names, and a
// process start time that tells a live producer apart from a reused pid.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

namespace trainscope::detail {

/// The namespace segments live in: TRAINSCOPE_NAMESPACE, else "trainscope-<uid>".
inline std::string default_namespace() {
    if (const char* ns = std::getenv("TRAINSCOPE_NAMESPACE"); ns && *ns) return ns;
    return "trainscope-" + std::to_string(::getuid());
}

/// Segments of namespace ns are named "<ns>.<pid>.<n>": the agent lists /dev/shm by prefix.
inline std::string segment_prefix(const std::string& ns) { return ns + "."; }

/// Whether `name`, which starts with segment_prefix(ns), is a segment of a longer namespace
/// ("<ns>.sub.<pid>.<n>" is namespace "<ns>.sub"'s), which the agent of ns must leave alone.
inline bool of_longer_namespace(const std::string& name, const std::string& ns) {
    auto digits = [](const std::string& s, std::size_t from, std::size_t to) {
        if (from >= to) return false;
        for (std::size_t i = from; i < to; ++i)
            if (s[i] < '0' || s[i] > '9') return false;
        return true;
    };
    std::size_t last = name.rfind('.');
    if (last == std::string::npos || last <= ns.size()) return false;
    std::size_t before = name.rfind('.', last - 1);
    return before != std::string::npos && before > ns.size() && digits(name, last + 1, name.size()) &&
           digits(name, before + 1, last);
}

/// Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or 0 if
/// the process does not exist or is a zombie. Together with the pid it names one process for good.
inline std::uint64_t process_start_time(long pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    std::FILE* f = std::fopen(path, "r");
    if (!f) return 0;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // The command name (field 2) may hold spaces and parentheses: count fields after the
    // last ')'. Field 3 follows it; the start time is field 22.
    const char* p = std::strrchr(buf, ')');
    if (!p) return 0;
    // Field 3, the state: a zombie (Z) or dead (X) process keeps its /proc entry until it is
    // reaped, but it will never write again.
    if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X')) return 0;
    int field = 2;
    for (; *p && field < 22; ++p)
        if (*p == ' ') ++field;
    return std::strtoull(p, nullptr, 10);
}

/// True while the process that wrote a segment is alive (same pid and same start time).
inline bool process_alive(long pid, std::uint64_t start_time) {
    return pid > 0 && start_time != 0 && process_start_time(pid) == start_time;
}

}  // namespace trainscope::detail
