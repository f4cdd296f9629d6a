// The shared-memory segment layout: the one contract between a trainer (SDK) and the agent.
//
// This header is the single source of truth. The SDK writes a segment, the agent reads it,
// tools inspect it; all of them include this file and none writes an offset twice.
//
// One segment per Run per process, named "<namespace>.<pid>.<n>" under /dev/shm, mode 0600.
//
//   offset   size   what
//   ┌──────┬───────┬──────────────────────────────────────────────────────────────────────┐
//   │    0 │   256 │ Identity: magic, version (published last), sizes, pid, start time,  │
//   │      │       │ clock anchor, rank, session id, run name. Immutable once published.  │
//   │  256 │    64 │ write_pos   — next ring position to claim   (producers, atomic)       │
//   │  320 │    64 │ read_pos    — first position not yet stored (agent, atomic)           │
//   │  384 │    64 │ dropped, finished, metric_count, event_write (producers, atomic)      │
//   │  448 │    64 │ event_read  (agent, atomic)                                            │
//   │  512 │ 32768 │ metric names: kMaxMetrics × 64-byte NUL-terminated names               │
//   │33280 │ 65544 │ config blob   (seqlock: generation, length, bytes)                     │
//   │  ... │  ...  │ model-info blob (seqlock)                                              │
//   │  ... │  ...  │ event ring: kEventSlots × 256-byte EventSlot                           │
//   │  ... │  ...  │ record ring: slot_count × 32-byte Slot   (starts at header_size)       │
//   └──────┴───────┴──────────────────────────────────────────────────────────────────────┘
//
// Protocol (see DESIGN.md, "Shared-memory contract"):
//  * The creator fills the header, then stores `version` with release. A reader treats 0 as
//    "not ready yet" and any other value than kLayoutVersion as a mismatch.
//  * A producer claims ring position p with one CAS on write_pos (only while
//    p - read_pos < slot_count), fills slot p % slot_count, then publishes it by storing
//    uint32(p + 1) into the slot's `publish` word with release. The agent reads `publish`
//    with acquire; a slot is ready exactly when publish == uint32(p + 1).
//  * The agent advances read_pos only after the records below it are committed to its
//    store, so a slot is never reused before it is safely stored.
//  * Names and blobs are written on the slow path, under a lock private to the producer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace trainscope {
namespace layout {
inline namespace v1 {

/// "TSCOPE\0\1" read as a little-endian integer.
constexpr std::uint64_t kMagic = 0x0100'4550'4f43'5354ULL;
/// Bumped on any change to the structures below. 0 is reserved for "not ready".
constexpr std::uint32_t kLayoutVersion = 1;

constexpr std::size_t kCacheLine = 64;
constexpr std::size_t kMaxMetrics = 512;
constexpr std::size_t kMetricNameSize = 64;     ///< including the terminating NUL
constexpr std::size_t kSessionIdSize = 32;      ///< including the terminating NUL
constexpr std::size_t kRunNameSize = 96;        ///< including the terminating NUL
constexpr std::size_t kConfigBlobSize = 64 * 1024;
constexpr std::size_t kModelInfoBlobSize = 512 * 1024;
constexpr std::size_t kEventSlots = 128;
constexpr std::size_t kEventKindSize = 32;
constexpr std::size_t kEventTextSize = 208;
constexpr std::uint32_t kMinSlots = 64;
constexpr std::uint32_t kMaxSlots = 1u << 28;   ///< keeps uint32 publish tags unambiguous

/// Values of Header::finished.
enum RunState : std::uint32_t { kRunning = 0, kFinished = 1 };

/// One record in the ring. 32 bytes, two per cache line.
struct Slot {
    std::atomic<std::uint32_t> publish;  ///< uint32(position + 1) once the record is readable
    std::uint32_t metric_id;             ///< index into Header::metric_names
    std::int64_t step;
    double value;
    std::uint64_t ticks;                 ///< producer's clock; see Identity::anchor_*
};

/// A piece of text (JSON) written rarely, read with a seqlock: generation is odd while the
/// producer writes. The reader copies, then re-reads generation and retries if it moved.
template <std::size_t Capacity>
struct Blob {
    std::atomic<std::uint32_t> generation;
    std::uint32_t length;
    char bytes[Capacity];
};

/// A run event (run.event(kind, text)), in a small ring of its own.
struct EventSlot {
    std::atomic<std::uint32_t> publish;  ///< uint32(event position + 1) once readable
    std::uint32_t reserved;
    std::uint64_t ticks;
    char kind[kEventKindSize];
    char text[kEventTextSize];
};

/// Immutable after `version` is published.
struct Identity {
    std::uint64_t magic;
    std::atomic<std::uint32_t> version;
    std::uint32_t header_size;       ///< byte offset of the record ring
    std::uint32_t slot_size;         ///< sizeof(Slot)
    std::uint32_t slot_count;        ///< power of two, kMinSlots..kMaxSlots
    std::int64_t producer_pid;
    std::uint64_t producer_start;    ///< /proc/<pid>/stat start time: tells a reused pid apart
    std::int64_t anchor_unix_ns;     ///< wall clock at creation ...
    std::uint64_t anchor_ticks;      ///< ... and the tick counter read at the same moment
    std::uint32_t tick_kind;         ///< 1 = x86 TSC, 2 = steady_clock nanoseconds
    std::int32_t rank;               ///< RANK of a distributed job, else 0
    std::uint32_t overflow_policy;   ///< 0 drop, 1 block (informational)
    std::uint32_t reserved0;
    char session_id[kSessionIdSize];
    char run_name[kRunNameSize];
    char reserved1[256 - 72 - kSessionIdSize - kRunNameSize];
};

struct Header {
    Identity id;
    alignas(kCacheLine) std::atomic<std::uint64_t> write_pos;
    alignas(kCacheLine) std::atomic<std::uint64_t> read_pos;
    alignas(kCacheLine) std::atomic<std::uint64_t> dropped;
    std::atomic<std::uint32_t> finished;      ///< RunState
    std::atomic<std::uint32_t> metric_count;  ///< names below this index are published
    std::atomic<std::uint64_t> event_write;
    std::atomic<std::uint64_t> events_dropped;
    alignas(kCacheLine) std::atomic<std::uint64_t> event_read;
    alignas(kCacheLine) char metric_names[kMaxMetrics][kMetricNameSize];
    Blob<kConfigBlobSize> config;
    Blob<kModelInfoBlobSize> model_info;
    alignas(kCacheLine) EventSlot events[kEventSlots];
};

/// The record ring starts here, cache-line aligned.
constexpr std::size_t kHeaderSize = (sizeof(Header) + kCacheLine - 1) / kCacheLine * kCacheLine;

constexpr std::size_t segment_size(std::uint32_t slot_count) {
    return kHeaderSize + std::size_t{slot_count} * sizeof(Slot);
}

inline Slot* slots(Header* h) {
    return reinterpret_cast<Slot*>(reinterpret_cast<char*>(h) + kHeaderSize);
}
inline const Slot* slots(const Header* h) {
    return reinterpret_cast<const Slot*>(reinterpret_cast<const char*>(h) + kHeaderSize);
}

// ---- The layout, pinned. A change here is a change of kLayoutVersion. ----
static_assert(sizeof(Slot) == 32, "two slots per cache line");
static_assert(offsetof(Slot, publish) == 0 && offsetof(Slot, metric_id) == 4);
static_assert(offsetof(Slot, step) == 8 && offsetof(Slot, value) == 16);
static_assert(offsetof(Slot, ticks) == 24);
static_assert(sizeof(EventSlot) == 256);
static_assert(sizeof(Identity) == 256);
static_assert(offsetof(Identity, magic) == 0 && offsetof(Identity, version) == 8);
static_assert(offsetof(Identity, header_size) == 12 && offsetof(Identity, slot_size) == 16);
static_assert(offsetof(Identity, slot_count) == 20 && offsetof(Identity, producer_pid) == 24);
static_assert(offsetof(Identity, producer_start) == 32);
static_assert(offsetof(Identity, anchor_unix_ns) == 40 && offsetof(Identity, anchor_ticks) == 48);
static_assert(offsetof(Identity, tick_kind) == 56 && offsetof(Identity, rank) == 60);
static_assert(offsetof(Identity, overflow_policy) == 64);
static_assert(offsetof(Identity, session_id) == 72 && offsetof(Identity, run_name) == 104);
static_assert(offsetof(Header, write_pos) == 256);
static_assert(offsetof(Header, read_pos) == 320);
static_assert(offsetof(Header, dropped) == 384 && offsetof(Header, finished) == 392);
static_assert(offsetof(Header, metric_count) == 396 && offsetof(Header, event_write) == 400);
static_assert(offsetof(Header, events_dropped) == 408);
static_assert(offsetof(Header, event_read) == 448);
static_assert(offsetof(Header, metric_names) == 512);
static_assert(offsetof(Header, config) == 512 + kMaxMetrics * kMetricNameSize);
static_assert(offsetof(Header, model_info) == offsetof(Header, config) + sizeof(Blob<kConfigBlobSize>));
static_assert(offsetof(Header, events) % kCacheLine == 0);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared atomics must be lock-free");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "shared atomics must be lock-free");
static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && sizeof(std::atomic<std::uint32_t>) == 4);

}  // namespace v1
}  // namespace layout
}  // namespace trainscope
