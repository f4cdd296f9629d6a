// Contains SIGBUS from shared mappings that shrink under us.
//
// A file mapped MAP_SHARED that another process truncates makes every later access beyond
// its new end raise SIGBUS, which kills the process by default. The collector checks each
// segment's size before it reads it (SegmentReader::damage()), but a truncate can still land
// between that check and the read. For that window, a watched mapping is protected by a
// process-wide SIGBUS handler: a fault inside it replaces the mapping from the faulting page
// to its end with private zero pages (mmap MAP_FIXED), marks it faulted, and returns, so the
// read is retried and sees zeros, which the reader treats as "nothing published". The owner
// then notices faulted() and detaches. A fault anywhere else gets the previous disposition
// (the default: the process dies as it would have).
//
// Why not sigsetjmp/siglongjmp: jumping out of the drain would skip destructors of whatever
// was in flight (a std::string being copied out of a blob), which C++ leaves undefined.
//
// Thread safety: watch/unwatch/faulted may be called from any thread. A mapping must be
// unwatched before it is unmapped.
#pragma once

#include <cstddef>

namespace trainscope::agent::sigbus_guard {

/// Watches [base, base + size) (base page-aligned, as mmap returns it). Installs the handler
/// on first use. Returns a token, or -1 if all kMaxWatched entries are taken (the mapping is
/// then unguarded; the per-pass size check still applies).
int watch(void* base, std::size_t size);

/// True once a fault inside the watched mapping was contained. token -1: false.
bool faulted(int token);

/// Stops watching. token -1: no-op.
void unwatch(int token);

/// Entries in the watch table: more segments than a machine's trainers plausibly hold.
constexpr int kMaxWatched = 4096;

}  // namespace trainscope::agent::sigbus_guard
