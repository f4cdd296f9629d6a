// Proves: a segment the SDK really creates matches layout.hpp's documented table at run
// time (every region at its offset with its size, records at header_size), has the size
// segment_size() says, rounds capacities up to powers of two within [kMinSlots, ...], is
// mode 0600 in /dev/shm, and carries its identity with the version published.
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
        {"identity", 0, 256},          {"write_pos", 256, 64},  {"read_pos", 320, 64},
        {"dropped", 384, 8},           {"finished", 392, 4},    {"metric_count", 396, 4},
        {"event_write", 400, 8},       {"event_read", 448, 64}, {"metric names", 512, 32768},
        {"config blob", 33280, 65544},
    };
    const std::pair<const void*, std::size_t> actual[] = {
        {&h.id, sizeof h.id},
        {&h.write_pos, offsetof(Header, read_pos) - offsetof(Header, write_pos)},
        {&h.read_pos, offsetof(Header, dropped) - offsetof(Header, read_pos)},
        {&h.dropped, sizeof h.dropped},
        {&h.finished, sizeof h.finished},
        {&h.metric_count, sizeof h.metric_count},
        {&h.event_write, sizeof h.event_write},
        {&h.event_read, offsetof(Header, metric_names) - offsetof(Header, event_read)},
        {&h.metric_names, sizeof h.metric_names},
        {&h.config, sizeof h.config},
    };
    for (std::size_t i = 0; i < std::size(documented); ++i) {
        EXPECT_EQ(offset_in(h, actual[i].first), documented[i].offset) << documented[i].what;
        EXPECT_EQ(actual[i].second, documented[i].size) << documented[i].what;
    }
    // The variable-size tail: model info after config, events cache-aligned, records last.
    EXPECT_EQ(offset_in(h, &h.model_info), 33280u + 65544u);
    EXPECT_EQ(sizeof h.model_info, 8 + layout::kModelInfoBlobSize);
    EXPECT_EQ(offset_in(h, &h.events) % layout::kCacheLine, 0u);
    EXPECT_GE(offset_in(h, &h.events), offset_in(h, &h.model_info) + sizeof h.model_info);
    EXPECT_EQ(sizeof h.events, layout::kEventSlots * 256);
    EXPECT_LE(offset_in(h, &h.events) + sizeof h.events, layout::kHeaderSize);
    EXPECT_EQ(layout::kHeaderSize % layout::kCacheLine, 0u);
    EXPECT_EQ(h.id.header_size, layout::kHeaderSize);
    EXPECT_EQ(h.id.slot_size, 32u);
}

TEST_F(LayoutTest, RecordsSitAtHeaderSizeInTheDocumentedSlotFormat) {
    trainscope::Run run("layout", options(64));
    ASSERT_EQ(run.log("loss", 12345, 2.5), LogStatus::ok);
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    const char* base = reinterpret_cast<const char*>(&reader->identity());
    const char* slot0 = base + reader->identity().header_size;
    EXPECT_EQ(read_raw<std::uint32_t>(slot0, 0), 1u) << "publish = position + 1";
    EXPECT_EQ(read_raw<std::uint32_t>(slot0, 4), 0u) << "metric id";
    EXPECT_EQ(read_raw<std::int64_t>(slot0, 8), 12345) << "step";
    EXPECT_EQ(read_raw<double>(slot0, 16), 2.5) << "value";
    EXPECT_NE(read_raw<std::uint64_t>(slot0, 24), 0u) << "ticks";
    EXPECT_EQ(read_raw<std::uint32_t>(slot0 + 32, 0), 0u) << "slot 1 is not published";
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
    EXPECT_TRUE(id.tick_kind == 1 || id.tick_kind == 2) << id.tick_kind;
    EXPECT_EQ(reader->session_id(), run.session_id());
    EXPECT_EQ(reader->run_name(), "identity-run");
    EXPECT_FALSE(reader->finished());
    run.finish();
    EXPECT_TRUE(reader->finished());
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
    EXPECT_EQ(static_cast<std::size_t>(st.st_size), layout::segment_size(128));
    EXPECT_EQ(layout::segment_size(128), layout::kHeaderSize + 128 * 32);
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
            EXPECT_EQ(static_cast<std::size_t>(st.st_size), layout::segment_size(expected));
        }
        remove_shm_files(ns_.name());
    }
}

}  // namespace
}  // namespace trainscope::test
