#include "proc_stats.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace trainscope::plugins::system {
namespace {

/// Reads a small file (relative to dir, or absolute with AT_FDCWD) into buf, NUL-terminated;
/// its length, or -1.
long read_small_at(int dir, const char* path, char* buf, std::size_t size) {
    int fd = ::openat(dir, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = ::read(fd, buf, size - 1);
    ::close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return static_cast<long>(n);
}

long read_small(const char* path, char* buf, std::size_t size) {
    return read_small_at(AT_FDCWD, path, buf, size);
}

/// The value after "key" in a "key: value" listing such as /proc/meminfo, or nullopt.
std::optional<std::uint64_t> field_after(const char* text, const char* key) {
    const char* at = std::strstr(text, key);
    if (!at) return std::nullopt;
    return std::strtoull(at + std::strlen(key), nullptr, 10);
}

}  // namespace

std::optional<ProcessStat> read_process(std::int64_t pid, std::uint64_t start_time) {
    if (pid <= 0 || start_time == 0) return std::nullopt;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%lld", static_cast<long long>(pid));
    // Both files are read through one open directory: it stays bound to the process it was
    // opened for, so once the start time checks out, statm cannot be a later namesake's.
    int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return std::nullopt;
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_dir{dir};
    char buf[1024];
    if (read_small_at(dir, "stat", buf, sizeof buf) <= 0) return std::nullopt;
    // The command name (field 2) may hold spaces and ')': fields are counted from the last ')'.
    const char* p = std::strrchr(buf, ')');
    if (!p || p[1] != ' ') return std::nullopt;
    if (p[2] == 'Z' || p[2] == 'X') return std::nullopt;  // dead, not yet reaped
    std::uint64_t fields[23] = {};                        // fields[k]: field k of the line (3..22)
    int field = 3;
    for (const char* q = p + 2; q && *q && field <= 22; ++field) {
        fields[field] = std::strtoull(q, nullptr, 10);
        q = std::strchr(q, ' ');
        if (q) ++q;
    }
    if (field <= 22) return std::nullopt;  // truncated line
    ProcessStat s;
    s.start_time = fields[22];
    if (s.start_time != start_time) return std::nullopt;  // the pid names another process now
    s.cpu_ticks = fields[14] + fields[15];
    // Resident pages from statm (its second field): stat's own rss field is the kernel's
    // cheap per-CPU estimate, off by hundreds of KiB on a small process.
    if (read_small_at(dir, "statm", buf, sizeof buf) <= 0) return std::nullopt;
    char* q = buf;
    std::strtoull(q, &q, 10);  // size
    static const long page = ::sysconf(_SC_PAGESIZE);
    s.rss_bytes = std::strtoull(q, nullptr, 10) * static_cast<std::uint64_t>(page);
    return s;
}

std::optional<HostCpu> read_host_cpu() {
    char buf[512];  // only the first line ("cpu  user nice system idle iowait irq softirq steal")
    if (read_small("/proc/stat", buf, sizeof buf) <= 0 || std::strncmp(buf, "cpu ", 4) != 0)
        return std::nullopt;
    std::uint64_t v[8] = {};
    char* q = buf + 4;
    for (auto& x : v) x = std::strtoull(q, &q, 10);
    HostCpu c;
    for (auto x : v) c.total += x;
    c.busy = c.total - v[3] - v[4];
    return c;
}

std::optional<double> host_cpu_percent(const HostCpu& before, const HostCpu& after) {
    if (after.total <= before.total || after.busy < before.busy) return std::nullopt;
    return 100.0 * static_cast<double>(after.busy - before.busy) /
           static_cast<double>(after.total - before.total);
}

std::optional<HostMemory> read_host_memory() {
    char buf[512];  // MemTotal, MemFree and MemAvailable are its first three lines
    if (read_small("/proc/meminfo", buf, sizeof buf) <= 0) return std::nullopt;
    auto total = field_after(buf, "MemTotal:");
    auto available = field_after(buf, "MemAvailable:");
    if (!total || !available) return std::nullopt;
    return HostMemory{*total * 1024, *available * 1024};
}

std::optional<std::int64_t> boot_time_s() {
    static const std::optional<std::int64_t> cached = []() -> std::optional<std::int64_t> {
        std::FILE* f = std::fopen("/proc/stat", "r");
        if (!f) return std::nullopt;
        char line[256];
        std::optional<std::int64_t> out;
        while (std::fgets(line, sizeof line, f))
            if (std::strncmp(line, "btime ", 6) == 0) out = std::strtoll(line + 6, nullptr, 10);
        std::fclose(f);
        return out;
    }();
    return cached;
}

long ticks_per_second() {
    static const long ticks = ::sysconf(_SC_CLK_TCK);
    return ticks;
}

}  // namespace trainscope::plugins::system
