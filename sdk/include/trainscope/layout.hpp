// The shared-memory segment layout: the one contract between a trainer (SDK) and the agent.
//
// This header is the single source of truth. The SDK writes a segment, the agent reads it,
// tools inspect it; all of them include this file and none writes an offset twice.
//
// One segment per Run per process, named "<namespace>.<pid>.<n>" under /dev/shm, mode 0600.
//
//   offset   size    what
//   ┌──────┬────────┬─────────────────────────────────────────────────────────────────────┐
//   │    0 │    256 │ Identity: magic, version (published last), sizes, lane count, pid,  │
//   │      │        │ start time, clock, rank, session id, run name. Immutable once       │
//   │      │        │ published.                                                          │
//   │  256 │     64 │ dropped, finished, metric_count, event_write, events_dropped,       │
//   │      │        │ lanes_claimed                          (producers, atomic)          │
//   │  320 │     64 │ event_read, agent_beat                 (agent, atomic)              │
//   │  384 │  32768 │ metric names: kMaxMetrics × 64-byte NUL-terminated names            │
//   │33152 │  65544 │ config blob   (seqlock: generation, length, bytes)                  │
//   │98696 │ 524296 │ model-info blob (seqlock)                                           │
//   │623040│  32768 │ event ring: kEventSlots × 256-byte EventSlot                        │
//   │655808│   8192 │ lane table: kMaxLanes × LaneControl, each 2 cache lines:            │
//   │      │        │   write_pos (producer side) | read_pos (agent side)                 │
//   │  ... │    ... │ padding up to a page boundary                                       │
//   │667648│  L×S×32│ record lanes: lane k's S slots (32 B each) start at                 │
//   │      │        │   header_size + k × S × 32;  L = lane_count, S = slot_count         │
//   └──────┴────────┴─────────────────────────────────────────────────────────────────────┘
//
// Lanes. A segment holds lane_count rings of slot_count slots each. Lane 0 is shared by any
// number of threads (claims by CAS); lanes 1..lane_count-1 each belong to one producer thread
// at a time (single producer: plain load, plain stores, release publish, no locked
// instruction). The SDK hands the first lane_count-1 threads that log to a Run a lane each;
// later threads share lane 0. /dev/shm is tmpfs and sparse: a lane no thread writes costs no
// memory, so the segment's size is virtual until used. Lanes start page-aligned.
//
// Protocol (see docs/design.md, "Shared-memory protocol"):
//  * The creator fills the header, then stores `version` with release. A reader treats 0 as
//    "not ready yet" and any other value than kLayoutVersion as a mismatch.
//  * Owned lane (k >= 1): the owner fills slot p % slot_count (only while
//    p - read_pos < slot_count), stores uint32(p + 1) into the slot's `publish` word with
//    release, then stores write_pos = p + 1 with release. A claimed slot is always published.
//  * Shared lane 0: a producer claims position p with one CAS on write_pos (only while
//    p - read_pos < slot_count), fills the slot, then publishes it as above. write_pos may
//    run ahead of published slots; a reader stops at the first unpublished one (or skips
//    it once the producer process is dead: it can never be published).
//  * The agent reads write_pos and `publish` with acquire; a slot is ready exactly when
//    publish == uint32(p + 1). It advances a lane's read_pos only after the records below
//    it are committed to its store, so a slot is never reused before it is safely stored.
//  * Timestamps are wall-clock Unix nanoseconds taken by the producer (Identity::clock_kind
//    says which clock); the agent uses them as they are.
//  * Names and blobs are written on the slow path, under a lock private to the producer.
//  * Heartbeat: the agent stores a new value into agent_beat (its CLOCK_MONOTONIC ns) on every
//    pass while it reads the segment. A producer only compares it for change: under the block
//    policy a wait in which it does not change for a bound gives up (see agent_watch.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace trainscope {
namespace layout {
inline namespace v3 {

/// "TSCOPE\0\1" read as a little-endian integer.
constexpr std::uint64_t kMagic = 0x0100'4550'4f43'5354ULL;
/// Bumped on any change to the structures below. 0 is reserved for "not ready".
constexpr std::uint32_t kLayoutVersion = 3;

constexpr std::size_t kCacheLine = 64;
constexpr std::size_t kPageSize = 4096;         ///< lanes start on page boundaries
constexpr std::size_t kMaxMetrics = 512;
constexpr std::size_t kMetricNameSize = 64;     ///< including the terminating NUL
constexpr std::size_t kSessionIdSize = 32;      ///< including the terminating NUL
constexpr std::size_t kRunNameSize = 96;        ///< including the terminating NUL
constexpr std::size_t kConfigBlobSize = 64 * 1024;
constexpr std::size_t kModelInfoBlobSize = 512 * 1024;
constexpr std::size_t kEventSlots = 128;
constexpr std::size_t kEventKindSize = 32;
constexpr std::size_t kEventTextSize = 208;
constexpr std::uint32_t kMinSlots = 64;         ///< per lane
constexpr std::uint32_t kMaxSlots = 1u << 28;   ///< per lane; keeps uint32 publish tags unambiguous
constexpr std::uint32_t kMaxLanes = 64;

/// Values of Header::finished. Any value but kRunning ends the run; an agent that predates
/// kFailed treats it as "never finished" and reports the run crashed once its process exits.
enum RunState : std::uint32_t { kRunning = 0, kFinished = 1, kFailed = 2 };

/// Values of Identity::clock_kind: which clock stamped the records.
enum ClockKind : std::uint32_t {
    kClockRealtimeCoarse = 1,  ///< CLOCK_REALTIME_COARSE: cheap, resolution a kernel tick
    kClockRealtime = 2,        ///< CLOCK_REALTIME: precise, several times dearer
};

/// One record in a lane. 32 bytes, two per cache line.
struct Slot {
    std::atomic<std::uint32_t> publish;  ///< uint32(position + 1) once the record is readable
    std::uint32_t metric_id;             ///< index into Header::metric_names
    std::int64_t step;
    double value;
    std::int64_t unix_ns;                ///< wall clock at log time, Unix nanoseconds
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
    std::int64_t unix_ns;
    char kind[kEventKindSize];
    char text[kEventTextSize];
};

/// One lane's positions, each on a cache line of its own: the producer writes write_pos on
/// every record and the agent writes read_pos once per commit; sharing a line would make
/// each invalidate the other's cache on every record.
struct LaneControl {
    std::atomic<std::uint64_t> write_pos;  ///< next position to claim (producer side)
    char pad0[kCacheLine - 8];
    std::atomic<std::uint64_t> read_pos;   ///< first position not yet stored (agent side)
    char pad1[kCacheLine - 8];
};

/// Immutable after `version` is published.
struct Identity {
    std::uint64_t magic;
    std::atomic<std::uint32_t> version;
    std::uint32_t header_size;       ///< byte offset of lane 0's slots
    std::uint32_t slot_size;         ///< sizeof(Slot)
    std::uint32_t slot_count;        ///< slots per lane: a power of two, kMinSlots..kMaxSlots
    std::int64_t producer_pid;
    std::uint64_t producer_start;    ///< /proc/<pid>/stat start time: tells a reused pid apart
    std::int64_t anchor_unix_ns;     ///< wall clock when the run started
    std::uint32_t lane_count;        ///< 1..kMaxLanes
    std::uint32_t clock_kind;        ///< ClockKind
    std::uint32_t clock_resolution_ns;  ///< clock_getres of that clock (informational)
    std::int32_t rank;               ///< RANK of a distributed job, else 0
    std::uint32_t overflow_policy;   ///< 0 drop, 1 block (informational)
    std::uint32_t reserved0;
    char session_id[kSessionIdSize];
    char run_name[kRunNameSize];
    char reserved1[256 - 72 - kSessionIdSize - kRunNameSize];
};

struct Header {
    Identity id;
    alignas(kCacheLine) std::atomic<std::uint64_t> dropped;  ///< every lane's drops together
    std::atomic<std::uint32_t> finished;       ///< RunState
    std::atomic<std::uint32_t> metric_count;   ///< names below this index are published
    std::atomic<std::uint64_t> event_write;
    std::atomic<std::uint64_t> events_dropped;
    std::atomic<std::uint32_t> lanes_claimed;  ///< owned lanes handed out so far (informational)
    alignas(kCacheLine) std::atomic<std::uint64_t> event_read;
    std::atomic<std::uint64_t> agent_beat;     ///< changes on every agent pass (heartbeat)
    alignas(kCacheLine) char metric_names[kMaxMetrics][kMetricNameSize];
    Blob<kConfigBlobSize> config;
    Blob<kModelInfoBlobSize> model_info;
    alignas(kCacheLine) EventSlot events[kEventSlots];
    alignas(kCacheLine) LaneControl lanes[kMaxLanes];
};

/// Lane 0's slots start here, page-aligned, so that an unused lane shares no page with a
/// used one (tmpfs allocates pages only when written).
constexpr std::size_t kHeaderSize = (sizeof(Header) + kPageSize - 1) / kPageSize * kPageSize;

constexpr std::size_t lane_bytes(std::uint32_t slot_count) {
    return std::size_t{slot_count} * sizeof(Slot);
}
constexpr std::size_t segment_size(std::uint32_t lane_count, std::uint32_t slot_count) {
    return kHeaderSize + std::size_t{lane_count} * lane_bytes(slot_count);
}

/// The first slot of `lane` (0 <= lane < lane_count) in the segment that starts at h.
inline Slot* lane_slots(Header* h, std::uint32_t lane, std::uint32_t slot_count) {
    return reinterpret_cast<Slot*>(reinterpret_cast<char*>(h) + kHeaderSize +
                                   lane * lane_bytes(slot_count));
}
inline const Slot* lane_slots(const Header* h, std::uint32_t lane, std::uint32_t slot_count) {
    return lane_slots(const_cast<Header*>(h), lane, slot_count);
}

// ---- The layout, pinned. A change here is a change of kLayoutVersion. ----
static_assert(sizeof(Slot) == 32, "two slots per cache line");
static_assert(offsetof(Slot, publish) == 0 && offsetof(Slot, metric_id) == 4);
static_assert(offsetof(Slot, step) == 8 && offsetof(Slot, value) == 16);
static_assert(offsetof(Slot, unix_ns) == 24);
static_assert(sizeof(EventSlot) == 256);
static_assert(offsetof(EventSlot, publish) == 0 && offsetof(EventSlot, unix_ns) == 8);
static_assert(offsetof(EventSlot, kind) == 16 && offsetof(EventSlot, text) == 48);
static_assert(sizeof(LaneControl) == 2 * kCacheLine);
static_assert(offsetof(LaneControl, write_pos) == 0 && offsetof(LaneControl, read_pos) == 64);
static_assert(sizeof(Identity) == 256);
static_assert(offsetof(Identity, magic) == 0 && offsetof(Identity, version) == 8);
static_assert(offsetof(Identity, header_size) == 12 && offsetof(Identity, slot_size) == 16);
static_assert(offsetof(Identity, slot_count) == 20 && offsetof(Identity, producer_pid) == 24);
static_assert(offsetof(Identity, producer_start) == 32 && offsetof(Identity, anchor_unix_ns) == 40);
static_assert(offsetof(Identity, lane_count) == 48 && offsetof(Identity, clock_kind) == 52);
static_assert(offsetof(Identity, clock_resolution_ns) == 56 && offsetof(Identity, rank) == 60);
static_assert(offsetof(Identity, overflow_policy) == 64 && offsetof(Identity, reserved0) == 68);
static_assert(offsetof(Identity, session_id) == 72 && offsetof(Identity, run_name) == 104);
static_assert(offsetof(Header, dropped) == 256 && offsetof(Header, finished) == 264);
static_assert(offsetof(Header, metric_count) == 268 && offsetof(Header, event_write) == 272);
static_assert(offsetof(Header, events_dropped) == 280 && offsetof(Header, lanes_claimed) == 288);
static_assert(offsetof(Header, event_read) == 320 && offsetof(Header, agent_beat) == 328);
static_assert(offsetof(Header, metric_names) == 384);
static_assert(offsetof(Header, config) == 384 + kMaxMetrics * kMetricNameSize);
static_assert(offsetof(Header, config) == 33152 && sizeof(Blob<kConfigBlobSize>) == 65544);
static_assert(offsetof(Header, model_info) == 98696 && sizeof(Blob<kModelInfoBlobSize>) == 524296);
static_assert(offsetof(Header, events) == 623040);
static_assert(offsetof(Header, lanes) == 655808);
static_assert(sizeof(Header) == 664000);
static_assert(kHeaderSize == 667648 && kHeaderSize % kPageSize == 0);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared atomics must be lock-free");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "shared atomics must be lock-free");
static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && sizeof(std::atomic<std::uint32_t>) == 4);

}  // namespace v3
}  // namespace layout
}  // namespace trainscope
