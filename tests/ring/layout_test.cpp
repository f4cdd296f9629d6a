// Proves: a segment the SDK really creates matches layout.hpp's documented table at run
// time (every region at its offset with its size, lane k's records at header_size + k × lane
// bytes, the lane table's positions on separate cache lines), has the size segment_size()
// says for its lanes, rounds capacities up to powers of two within [kMinSlots, ...] and lane
// counts into 1..kMaxLanes, is mode 0600 in /dev/shm, and carries its identity (layout
// version 2, clock kind) with the version published.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <trainscope/detail/process.hpp>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using LayoutTest = RingTest;
using layout::Header;

/// One row of the table in layout.hpp's header comment.
struct Region {
    const char* what;
    std::size_t offset;
    std::size_t size;
};

std::size_t offset_in(const Header& h, const void* member) {
    return static_cast<std::size_t>(static_cast<const char*>(member) -
                                    reinterpret_cast<const char*>(&h));
}

template <typename T>
T read_raw(const char* base, std::size_t offset) {
    T v;
    std::memcpy(&v, base + offset, sizeof v);
    return v;
}

TEST_F(LayoutTest, SegmentMatchesTheDocumentedTable) {
    trainscope::Run run("layout", options(64));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    const Header& h = *reinterpret_cast<const Header*>(&reader->identity());

    const Region documented[] = {
        {"identity", 0, 256},         {"dropped", 256, 8},           {"finished", 264, 4},
        {"metric_count", 268, 4},     {"event_write", 272, 8},       {"events_dropped", 280, 8},
        {"lanes_claimed", 288, 4},    {"event_read", 320, 8},        {"agent_beat", 328, 56},
        {"metric names", 384, 32768},
        {"config blob", 33152, 65544}, {"model-info blob", 98696, 524296},
        {"event ring", 623040, 32768}, {"lane table", 655808, 8192},
    };
    const std::pair<const void*, std::size_t> actual[] = {
        {&h.id, sizeof h.id},
        {&h.dropped, sizeof h.dropped},
        {&h.finished, sizeof h.finished},
        {&h.metric_count, sizeof h.metric_count},
        {&h.event_write, sizeof h.event_write},
        {&h.events_dropped, sizeof h.events_dropped},
        {&h.lanes_claimed, sizeof h.lanes_claimed},
        {&h.event_read, sizeof h.event_read},
        {&h.agent_beat, offsetof(Header, metric_names) - offsetof(Header, agent_beat)},
        {&h.metric_names, sizeof h.metric_names},
        {&h.config, sizeof h.config},
        {&h.model_info, sizeof h.model_info},
        {&h.events, sizeof h.events},
        {&h.lanes, sizeof h.lanes},
    };
    for (std::size_t i = 0; i < std::size(documented); ++i) {
        EXPECT_EQ(offset_in(h, actual[i].first), documented[i].offset) << documented[i].what;
        EXPECT_EQ(actual[i].second, documented[i].size) << documented[i].what;
    }
    // Each lane's write_pos and read_pos on a cache line of its own.
    for (std::uint32_t k = 0; k < layout::kMaxLanes; ++k) {
        EXPECT_EQ(offset_in(h, &h.lanes[k].write_pos), 655808u + 128 * k) << "lane " << k;
        EXPECT_EQ(offset_in(h, &h.lanes[k].read_pos), 655808u + 128 * k + 64) << "lane " << k;
    }
    EXPECT_LE(offset_in(h, &h.lanes) + sizeof h.lanes, layout::kHeaderSize);
    EXPECT_EQ(layout::kHeaderSize, 667648u);
    EXPECT_EQ(layout::kHeaderSize % layout::kPageSize, 0u) << "lanes start page-aligned";
    EXPECT_EQ(h.id.header_size, layout::kHeaderSize);
    EXPECT_EQ(h.id.slot_size, 32u);
    EXPECT_EQ(h.id.lane_count, 8u) << "the default";
}

TEST_F(LayoutTest, RecordsSitInTheirLaneInTheDocumentedSlotFormat) {
    trainscope::Run run("layout", options(64));
    // The first thread to log gets lane 1 (lane 0 is the shared lane).
    ASSERT_EQ(run.log("loss", 12345, 2.5), LogStatus::ok);
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    const char* base = reinterpret_cast<const char*>(&reader->identity());
    const std::size_t lane_bytes = 64 * 32;
    const char* lane0 = base + reader->identity().header_size;
    const char* slot0 = lane0 + 1 * lane_bytes;
    EXPECT_EQ(read_raw<std::uint32_t>(slot0, 0), 1u) << "publish = position + 1";
    EXPECT_EQ(read_raw<std::uint32_t>(slot0, 4), 0u) << "metric id";
    EXPECT_EQ(read_raw<std::int64_t>(slot0, 8), 12345) << "step";
    EXPECT_EQ(read_raw<double>(slot0, 16), 2.5) << "value";
    EXPECT_GT(read_raw<std::int64_t>(slot0, 24), 1'600'000'000'000'000'000) << "Unix ns";
    EXPECT_EQ(read_raw<std::uint32_t>(slot0 + 32, 0), 0u) << "slot 1 is not published";
    EXPECT_EQ(read_raw<std::uint32_t>(lane0, 0), 0u) << "nothing in the shared lane";
    EXPECT_EQ(read_raw<std::uint64_t>(base, 655808 + 128 * 1), 1u) << "lane 1 write_pos";
    EXPECT_EQ(read_raw<std::uint64_t>(base, 655808), 0u) << "lane 0 write_pos";
    EXPECT_EQ(read_raw<std::uint32_t>(base, 288), 1u) << "lanes_claimed";
}

TEST_F(LayoutTest, IdentityIsFilledAndVersionPublished) {
    RunOptions o = options(64, OverflowPolicy::block);
    o.rank = 3;
    trainscope::Run run("identity-run", o);
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    const layout::Identity& id = reader->identity();
    EXPECT_EQ(id.magic, layout::kMagic);
    EXPECT_EQ(id.version.load(), layout::kLayoutVersion);
    EXPECT_EQ(id.producer_pid, static_cast<std::int64_t>(::getpid()));
    EXPECT_EQ(id.producer_start, detail::process_start_time(static_cast<long>(::getpid())));
    EXPECT_NE(id.producer_start, 0u);
    EXPECT_EQ(id.rank, 3);
    EXPECT_EQ(id.overflow_policy, 1u);
    EXPECT_NE(id.anchor_unix_ns, 0);
    EXPECT_EQ(id.version.load(), 3u);  // v3: agent_beat
    EXPECT_EQ(id.clock_kind, layout::kClockRealtimeCoarse) << "the default";
    EXPECT_GT(id.clock_resolution_ns, 0u);
    EXPECT_EQ(reader->session_id(), run.session_id());
    EXPECT_EQ(reader->run_name(), "identity-run");
    EXPECT_FALSE(reader->finished());
    run.finish();
    EXPECT_TRUE(reader->finished());
}

TEST_F(LayoutTest, AFailedEndIsKeptAndTheFirstEndWins) {
    trainscope::Run run("failing-run", options(64));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    EXPECT_FALSE(reader->finished());
    EXPECT_FALSE(reader->failed());
    run.finish(RunEnd::failed);
    EXPECT_TRUE(reader->finished()) << "a failed run has ended too";
    EXPECT_TRUE(reader->failed());
    run.finish();  // what the destructor does: must not turn it into a finished run
    EXPECT_TRUE(reader->failed());
}

TEST_F(LayoutTest, NamesAreCutOnUtf8CharacterBoundaries) {
    std::string name;
    for (int i = 0; i < 40; ++i) name += "\xe6\xa8\xa1";  // 40 three-byte characters, 120 bytes
    trainscope::Run run(name, options(64));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    // 95 bytes fit; 31 whole characters are 93: the 32nd is left out whole, not cut in two.
    EXPECT_EQ(reader->run_name(), name.substr(0, 93));
}

TEST_F(LayoutTest, ShmFileIsPrivateAndSizedBySegmentSize) {
    trainscope::Run run("layout", options(100));
    std::string name = ns_.only_segment();
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(name.rfind(ns_.name() + "." + std::to_string(::getpid()) + ".", 0), 0u) << name;
    struct stat st {};
    ASSERT_EQ(::stat(shm_path(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, ::getuid());
    EXPECT_EQ(static_cast<std::size_t>(st.st_size), layout::segment_size(8, 128));
    EXPECT_EQ(layout::segment_size(8, 128), layout::kHeaderSize + 8 * 128 * 32);
}

TEST_F(LayoutTest, LaneCountIsClampedIntoRange) {
    const std::pair<std::uint32_t, std::uint32_t> cases[] = {
        {0, 1}, {1, 1}, {2, 2}, {8, 8}, {64, 64}, {65, 64}, {1000, 64}};
    for (auto [requested, expected] : cases) {
        {
            trainscope::Run run("lanes", options(64, OverflowPolicy::drop, requested));
            auto reader = open_reader();
            ASSERT_TRUE(reader) << "lanes " << requested;
            EXPECT_EQ(reader->lane_count(), expected) << "lanes " << requested;
            struct stat st {};
            ASSERT_EQ(::stat(shm_path(ns_.only_segment()).c_str(), &st), 0);
            EXPECT_EQ(static_cast<std::size_t>(st.st_size), layout::segment_size(expected, 64));
        }
        remove_shm_files(ns_.name());
    }
}

TEST_F(LayoutTest, CapacityRoundsUpToAPowerOfTwoWithinLimits) {
    const std::pair<std::uint32_t, std::uint32_t> cases[] = {
        {0, 64},    {1, 64},      {63, 64},     {64, 64},     {65, 128},
        {100, 128}, {1000, 1024}, {4096, 4096}, {4097, 8192},
    };
    for (auto [requested, expected] : cases) {
        {
            trainscope::Run run("rounding", options(requested));
            auto reader = open_reader();
            ASSERT_TRUE(reader) << "capacity " << requested;
            EXPECT_EQ(reader->identity().slot_count, expected) << "capacity " << requested;
            struct stat st {};
            ASSERT_EQ(::stat(shm_path(ns_.only_segment()).c_str(), &st), 0);
            EXPECT_EQ(static_cast<std::size_t>(st.st_size), layout::segment_size(8, expected));
        }
        remove_shm_files(ns_.name());
    }
}

}  // namespace
}  // namespace trainscope::test
