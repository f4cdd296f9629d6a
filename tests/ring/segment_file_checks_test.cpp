// Proves: SegmentReader::open maps only the user's own segments — a regular file owned by the
// effective user with mode 0600 — and refuses a symlink (even to a good segment), a
// directory, a FIFO, a 0644 file and a file owned by another user, each with its reason. And
// a segment truncated after it was mapped neither kills the reader with SIGBUS when it is read
// anyway (the fault is contained, the lost part reads as nothing published) nor goes
// unnoticed: damage() names the new size.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring/ring_fixture.hpp"
#include "support/segment_image.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::test {
namespace {

using SegmentFileChecksTest = RingTest;

constexpr uid_t kNobody = 65534;

std::unique_ptr<agent::SegmentReader> open_segment(const std::string& name, std::string* why) {
    bool not_ready = false;
    auto reader = agent::SegmentReader::open(name, why, &not_ready);
    EXPECT_FALSE(not_ready) << name << ": " << *why;
    return reader;
}

TEST_F(SegmentFileChecksTest, RefusesWhatIsNotTheUsersOwnRegularFile) {
    const std::string base = ns_.name() + ".999999.";
    SegmentImage good;
    TempDir elsewhere;
    std::string target = elsewhere.path() + "/good-segment";
    good.write_file(target);
    ASSERT_EQ(::symlink(target.c_str(), shm_path(base + "symlink").c_str()), 0);
    ASSERT_EQ(::mkdir(shm_path(base + "dir").c_str(), 0700), 0);
    ASSERT_EQ(::mkfifo(shm_path(base + "fifo").c_str(), 0600), 0);
    good.write_shm(base + "0644");
    ASSERT_EQ(::chmod(shm_path(base + "0644").c_str(), 0644), 0);
    good.write_shm(base + "own");

    std::string why;
    EXPECT_FALSE(open_segment(base + "symlink", &why));
    EXPECT_NE(why.find("symbolic link"), std::string::npos) << why;
    EXPECT_FALSE(open_segment(base + "dir", &why));
    EXPECT_NE(why.find("directory"), std::string::npos) << why;
    EXPECT_FALSE(open_segment(base + "fifo", &why));
    EXPECT_NE(why.find("FIFO"), std::string::npos) << why;
    EXPECT_FALSE(open_segment(base + "0644", &why));
    EXPECT_NE(why.find("mode 0644"), std::string::npos) << why;
    auto own = open_segment(base + "own", &why);
    ASSERT_TRUE(own) << why;
    EXPECT_EQ(own->damage(), "");

    if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
    good.write_shm(base + "foreign");
    ASSERT_EQ(::chown(shm_path(base + "foreign").c_str(), kNobody, kNobody), 0);
    EXPECT_FALSE(open_segment(base + "foreign", &why));
    EXPECT_NE(why.find("owned by uid 65534"), std::string::npos) << why;
}

/// A segment whose lane 1 holds `n` published records.
void publish_records(SegmentImage& image, std::uint64_t n) {
    layout::Slot* slots = layout::lane_slots(&image.header(), 1, image.header().id.slot_count);
    for (std::uint64_t p = 0; p < n; ++p) {
        slots[p].metric_id = 0;
        slots[p].step = static_cast<std::int64_t>(p);
        slots[p].value = 1.5;
        slots[p].unix_ns = 1;
        slots[p].publish.store(static_cast<std::uint32_t>(p + 1));
    }
    image.header().lanes[1].write_pos.store(n);
}

TEST_F(SegmentFileChecksTest, TruncatedWhileMappedIsReportedAndReadsDoNotFault) {
    const std::string name = ns_.name() + ".999999.0";
    SegmentImage image;
    publish_records(image, 10);
    image.write_shm(name);
    std::string why;
    auto reader = open_segment(name, &why);
    ASSERT_TRUE(reader) << why;
    agent::LaneCursors cursors(reader->lane_count(), 0);
    std::vector<agent::Record> out;
    std::uint64_t lost = 0;
    EXPECT_EQ(reader->drain(cursors, 1000, false, out, &lost), 10u);
    EXPECT_EQ(reader->damage(), "");
    EXPECT_FALSE(reader->faulted());

    ASSERT_EQ(::truncate(shm_path(name).c_str(), 4096), 0);
    // The per-pass check sees it before any read.
    EXPECT_NE(reader->damage().find("truncated to 4096 bytes"), std::string::npos)
        << reader->damage();

    // Read anyway, as a truncate racing the check would make the collector do: the lane
    // table and the slots now lie beyond the end of the file. Without containment each of
    // these reads is a SIGBUS that ends this process.
    agent::LaneCursors fresh(reader->lane_count(), 0);
    out.clear();
    EXPECT_EQ(reader->drain(fresh, 1000, false, out, &lost), 0u);
    std::uint32_t generation = 0;
    std::string text;
    EXPECT_FALSE(reader->read_config(&generation, &text));
    std::vector<agent::EventRecord> events;
    std::uint64_t event_cursor = 0;
    reader->read_events(event_cursor, events);
    reader->release_events(event_cursor);
    EXPECT_TRUE(events.empty());
    reader->release(1, 10);
    EXPECT_TRUE(reader->faulted());
    EXPECT_NE(reader->damage(), "");
}

}  // namespace
}  // namespace trainscope::test
