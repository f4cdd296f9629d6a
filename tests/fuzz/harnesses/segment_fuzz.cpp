// Segment validation and reading over arbitrary bytes, including content that goes bad after
// validation (the producer is another process: it can write anything at any time).
//
// The input drives: validate_segment() over the raw bytes; then a well-formed segment file
// (1-4 lanes of 64 or 128 slots) with fuzzer-chosen writes into its fields (positions, event
// cursors, blob lengths, metric ids, names, identity) before SegmentReader::open(); then a
// sequence of more such writes interleaved with every read the collector makes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "ingest/segment_reader.hpp"

namespace L = trainscope::layout;
using trainscope::agent::EventRecord;
using trainscope::agent::LaneCursors;
using trainscope::agent::Record;
using trainscope::agent::SegmentReader;

namespace {

/// A private directory on tmpfs for the segment files, removed at exit.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/dev/shm/trainscope-fuzz-XXXXXX";
        if (!::mkdtemp(tmpl)) std::abort();
        path = tmpl;
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
};

const std::string& scratch_dir() {
    static ScratchDir dir;
    return dir.path;
}

/// Offsets of the fields a producer writes (or corrupts); the rest is reached by raw offset.
std::size_t field_offset(FuzzedDataProvider& in, std::uint32_t lanes, std::uint32_t slots) {
    auto lane = in.ConsumeIntegralInRange<std::uint32_t>(0, lanes - 1);
    auto slot = in.ConsumeIntegralInRange<std::uint32_t>(0, slots - 1);
    auto event = in.ConsumeIntegralInRange<std::uint32_t>(0, L::kEventSlots - 1);
    auto metric = in.ConsumeIntegralInRange<std::uint32_t>(0, L::kMaxMetrics - 1);
    std::size_t lanes_at = offsetof(L::Header, lanes) + lane * sizeof(L::LaneControl);
    std::size_t slot_at = L::kHeaderSize + (std::size_t{lane} * slots + slot) * sizeof(L::Slot);
    switch (in.ConsumeIntegralInRange<int>(0, 17)) {
        case 0: return lanes_at + offsetof(L::LaneControl, write_pos);
        case 1: return lanes_at + offsetof(L::LaneControl, read_pos);
        case 2: return offsetof(L::Header, event_write);
        case 3: return offsetof(L::Header, event_read);
        case 4: return offsetof(L::Header, metric_count);
        case 5: return offsetof(L::Header, dropped);
        case 6: return offsetof(L::Header, finished);
        case 7: return offsetof(L::Header, config);
        case 8: return offsetof(L::Header, config) + 4;        // length
        case 9: return offsetof(L::Header, model_info);
        case 10: return offsetof(L::Header, model_info) + 4;   // length
        case 11: return offsetof(L::Header, events) + event * sizeof(L::EventSlot);
        case 12: return offsetof(L::Header, events) + event * sizeof(L::EventSlot) + offsetof(L::EventSlot, kind);
        case 13: return slot_at + offsetof(L::Slot, publish);
        case 14: return slot_at + offsetof(L::Slot, metric_id);
        case 15: return offsetof(L::Header, metric_names) + metric * L::kMetricNameSize;
        case 16: return in.ConsumeIntegralInRange<std::size_t>(0, sizeof(L::Identity) - 1);
        default: return in.ConsumeIntegralInRange<std::size_t>(0, L::segment_size(lanes, slots) - 1);
    }
}

/// One write the producer side makes: a field gets 1-16 fuzzer bytes.
void poke(int fd, FuzzedDataProvider& in, std::uint32_t lanes, std::uint32_t slots) {
    std::size_t at = field_offset(in, lanes, slots);
    std::string bytes = in.ConsumeBytesAsString(in.ConsumeIntegralInRange<std::size_t>(1, 16));
    std::size_t room = L::segment_size(lanes, slots) - at;
    if (bytes.size() > room) bytes.resize(room);
    if (!bytes.empty() && ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at)) < 0) std::abort();
}

/// What the collector does with the records of one drain, and what must hold of them.
void check_drain(SegmentReader& r, const LaneCursors& before, const LaneCursors& after,
                 const std::vector<Record>& out, std::size_t max, std::uint32_t slots) {
    FUZZ_CHECK(out.size() <= max, "drain returned more records than asked for");
    FUZZ_CHECK(after.size() == r.lane_count(), "one cursor per lane");
    for (std::uint32_t k = 0; k < r.lane_count(); ++k) {
        std::uint64_t from = k < before.size() ? before[k] : 0;
        FUZZ_CHECK(after[k] >= from, "a lane cursor moved backwards");
        FUZZ_CHECK(after[k] - from <= slots, "a lane cursor moved more than one lap");
    }
    for (const Record& rec : out) {
        FUZZ_CHECK(rec.lane < r.lane_count(), "a record from a lane that does not exist");
        // The collector's lookup (Collector::series_for): ids past metric_count are corrupt.
        if (rec.metric_id < L::kMaxMetrics && rec.metric_id < r.metric_count())
            (void)r.metric_name(rec.metric_id);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // 1. Arbitrary bytes as a whole mapping (aligned as mmap would give them).
    {
        std::vector<std::uint64_t> raw((size + 7) / 8 + 1);
        std::memcpy(raw.data(), data, size);
        bool not_ready = false;
        std::string why = trainscope::agent::validate_segment(raw.data(), size, &not_ready);
        FUZZ_CHECK(!not_ready || !why.empty(), "not ready yet valid");
    }

    // 2. A segment file, well formed, then bent by the input.
    FuzzedDataProvider in(data, size);
    const std::uint32_t lanes = in.ConsumeIntegralInRange<std::uint32_t>(1, 4);
    const std::uint32_t slots = L::kMinSlots << in.ConsumeIntegralInRange<int>(0, 1);
    const std::size_t full = L::segment_size(lanes, slots);
    static int counter = 0;
    const std::string name = "seg" + std::to_string(counter++ % 4);
    const std::string path = scratch_dir() + "/" + name;
    ::unlink(path.c_str());
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
    // Sometimes shorter than its header says: validation must refuse it.
    std::size_t cut = in.ConsumeBool() && in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 4096) : 0;
    if (::ftruncate(fd, static_cast<off_t>(full - cut)) != 0) std::abort();

    L::Identity id{};
    id.magic = L::kMagic;
    id.version.store(L::kLayoutVersion);
    id.header_size = L::kHeaderSize;
    id.slot_size = sizeof(L::Slot);
    id.slot_count = slots;
    id.lane_count = lanes;
    id.producer_pid = ::getpid();
    std::strcpy(id.session_id, "01FUZZSESSION0000000000000");
    std::string run_name = in.ConsumeBytesAsString(L::kRunNameSize);
    std::memcpy(id.run_name, run_name.data(), run_name.size());
    if (::pwrite(fd, &id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) std::abort();
    std::string metric = in.ConsumeBytesAsString(L::kMetricNameSize);
    if (::pwrite(fd, metric.data(), metric.size(), offsetof(L::Header, metric_names)) < 0) std::abort();

    for (int n = in.ConsumeIntegralInRange<int>(0, 24); n > 0 && in.remaining_bytes() > 0; --n)
        poke(fd, in, lanes, slots);

    std::string why;
    bool not_ready = false;
    auto reader = SegmentReader::open(scratch_dir(), name, &why, &not_ready);
    if (!reader) {
        FUZZ_CHECK(!why.empty(), "a refusal without a reason");
        ::close(fd);
        return 0;
    }
    FUZZ_CHECK(cut == 0, "a truncated segment was accepted");
    FUZZ_CHECK(reader->lane_count() >= 1 && reader->lane_count() <= L::kMaxLanes, "lane count out of range");

    // 3. Reads as the collector makes them, with the producer side changing under them.
    LaneCursors cursors = in.ConsumeBool() ? reader->read_positions()
                                           : LaneCursors(in.ConsumeIntegralInRange<std::size_t>(0, 8),
                                                         in.ConsumeIntegral<std::uint64_t>());
    std::uint32_t config_gen = 0, model_gen = 0;
    std::vector<Record> records;
    std::vector<EventRecord> events;
    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange<int>(0, 5)) {
            case 0:
                poke(fd, in, lanes, slots);
                break;
            case 1: {
                LaneCursors before = cursors;
                std::size_t max = in.ConsumeIntegralInRange<std::size_t>(0, 1024);
                std::uint64_t lost = 0;
                records.clear();
                reader->drain(cursors, max, in.ConsumeBool(), records, &lost);
                check_drain(*reader, before, cursors, records, max, slots);
                break;
            }
            case 2: {
                events.clear();
                std::uint64_t cursor = reader->event_read_pos();
                reader->read_events(cursor, events);
                reader->release_events(cursor);  // as the collector does once the events are stored
                FUZZ_CHECK(events.size() <= L::kEventSlots, "more events than the ring holds");
                std::uint64_t r = 0, w = 0;
                if (::pread(fd, &r, 8, offsetof(L::Header, event_read)) != 8) std::abort();
                if (::pread(fd, &w, 8, offsetof(L::Header, event_write)) != 8) std::abort();
                FUZZ_CHECK(r <= w, "the agent left event_read ahead of event_write (the producer then drops every event)");
                break;
            }
            case 3: {
                std::string text;
                if (reader->read_config(&config_gen, &text)) FUZZ_CHECK(text.size() <= 3 * L::kConfigBlobSize, "config too long");
                if (reader->read_model_info(&model_gen, &text))
                    FUZZ_CHECK(text.size() <= 3 * L::kModelInfoBlobSize, "model info too long");
                break;
            }
            case 4:
                if (cursors.size() == reader->lane_count()) {
                    auto k = in.ConsumeIntegralInRange<std::uint32_t>(0, reader->lane_count() - 1);
                    reader->release(k, cursors[k]);
                }
                break;
            default: {
                (void)reader->written();
                (void)reader->drained(cursors);
                (void)reader->dropped();
                (void)reader->finished();
                (void)reader->failed();
                // Text fields come back as valid UTF-8: each invalid byte becomes U+FFFD (3 bytes).
                FUZZ_CHECK(reader->session_id().size() <= 3 * L::kSessionIdSize, "session id unbounded");
                FUZZ_CHECK(reader->run_name().size() <= 3 * L::kRunNameSize, "run name unbounded");
                FUZZ_CHECK(reader->metric_count() <= L::kMaxMetrics, "metric count unbounded");
                for (std::uint32_t m = 0; m < reader->metric_count(); ++m) (void)reader->metric_name(m);
                FUZZ_CHECK(reader->damage().empty(), "an intact segment reported damaged");
                break;
            }
        }
    }
    ::close(fd);
    return 0;
}
