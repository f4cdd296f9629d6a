#include "ingest/sigbus_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace trainscope::agent::sigbus_guard {

namespace {

// begin == 0: free; begin == kClaimed: being filled in. The handler reads only atomics.
constexpr std::uintptr_t kClaimed = 1;

struct Entry {
    std::atomic<std::uintptr_t> begin{0};
    std::atomic<std::uintptr_t> end{0};
    std::atomic<bool> faulted{false};
};

Entry g_table[kMaxWatched];
struct sigaction g_previous;
std::uintptr_t g_page_size = 4096;
std::once_flag g_installed;

// Async-signal-safe: atomics, mmap and sigaction only (mmap is not on POSIX's list, but on
// Linux glibc's mmap is a bare system call with no lock).
void on_sigbus(int sig, siginfo_t* info, void* /*context*/) {
    if (info->si_code > 0) {  // raised by a memory access, not sent by kill()
        auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
        for (Entry& e : g_table) {
            std::uintptr_t begin = e.begin.load(std::memory_order_acquire);
            if (begin <= kClaimed) continue;
            std::uintptr_t end = e.end.load(std::memory_order_acquire);
            if (addr < begin || addr >= end) continue;
            std::uintptr_t page = addr & ~(g_page_size - 1);
            void* p = ::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (p == MAP_FAILED) break;
            e.faulted.store(true, std::memory_order_release);
            return;  // the access is retried and now reads zeros
        }
    }
    // Not ours: the previous disposition takes it (a repeated fault, or the signal again).
    ::sigaction(SIGBUS, &g_previous, nullptr);
    if (info->si_code <= 0) ::raise(sig);
}

void install() {
    g_page_size = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &g_previous);
}

}  // namespace

int watch(void* base, std::size_t size) {
    std::call_once(g_installed, install);
    auto begin = reinterpret_cast<std::uintptr_t>(base);
    std::uintptr_t end = (begin + size + g_page_size - 1) & ~(g_page_size - 1);
    for (int i = 0; i < kMaxWatched; ++i) {
        std::uintptr_t expected = 0;
        if (!g_table[i].begin.compare_exchange_strong(expected, kClaimed)) continue;
        g_table[i].end.store(end, std::memory_order_relaxed);
        g_table[i].faulted.store(false, std::memory_order_relaxed);
        g_table[i].begin.store(begin, std::memory_order_release);
        return i;
    }
    return -1;
}

bool faulted(int token) {
    return token >= 0 && g_table[token].faulted.load(std::memory_order_acquire);
}

void unwatch(int token) {
    if (token >= 0) g_table[token].begin.store(0, std::memory_order_release);
}

}  // namespace trainscope::agent::sigbus_guard
