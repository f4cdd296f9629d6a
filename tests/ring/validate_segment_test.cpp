// Proves: the agent's validate_segment() accepts a well-formed segment and refuses, with a
// reason, every malformed one — wrong magic, wrong version (a layout-v1 segment among them),
// truncated size (for its lane count), wrong sizes, a bad slot or lane count, random bytes —
// and reports version 0 as "not ready" rather than bad.
// SegmentReader::open applies the same checks to real /dev/shm files.
#include <cstring>

#include "ring/ring_fixture.hpp"
#include "support/segment_image.hpp"

namespace trainscope::test {
namespace {

struct Verdict {
    std::string why;
    bool not_ready;
};

Verdict validate(const void* base, std::size_t size) {
    Verdict v{"", false};
    v.why = agent::validate_segment(base, size, &v.not_ready);
    return v;
}

TEST(ValidateSegmentTest, AcceptsAWellFormedSegment) {
    SegmentImage image;
    Verdict v = validate(image.data(), image.size());
    EXPECT_EQ(v.why, "");
    EXPECT_FALSE(v.not_ready);
}

TEST(ValidateSegmentTest, RefusesWrongMagic) {
    SegmentImage image;
    image.header().id.magic ^= 1;
    Verdict v = validate(image.data(), image.size());
    EXPECT_NE(v.why.find("magic"), std::string::npos) << v.why;
    EXPECT_FALSE(v.not_ready);
}

TEST(ValidateSegmentTest, RefusesWrongVersionNamingBothNumbers) {
    SegmentImage image;
    image.header().id.version.store(layout::kLayoutVersion + 1);
    Verdict v = validate(image.data(), image.size());
    EXPECT_NE(v.why.find(std::to_string(layout::kLayoutVersion + 1)), std::string::npos) << v.why;
    EXPECT_NE(v.why.find(std::to_string(layout::kLayoutVersion)), std::string::npos) << v.why;
    EXPECT_FALSE(v.not_ready);
}

TEST(ValidateSegmentTest, RefusesALayoutVersionOneSegmentAsAVersionMismatch) {
    // What a trainer built with the v1 SDK (one ring, TSC timestamps) leaves in /dev/shm.
    SegmentImage image;
    image.header().id.version.store(1);
    Verdict v = validate(image.data(), image.size());
    EXPECT_EQ(v.why, "layout version 1, expected 3");
    EXPECT_FALSE(v.not_ready);
}

TEST(ValidateSegmentTest, RefusesLaneCountsOutOfRange) {
    for (std::uint32_t n : {0u, layout::kMaxLanes + 1, 1000u}) {
        SegmentImage image(64, 2);
        image.header().id.lane_count = n;
        Verdict v = validate(image.data(), image.size());
        EXPECT_NE(v.why.find("lane count"), std::string::npos) << "lane count " << n << ": " << v.why;
    }
}

TEST(ValidateSegmentTest, RefusesASegmentTooSmallForItsLanes) {
    // Sized for 2 lanes, but claims 3: the third lane would lie past the end.
    SegmentImage image(64, 2);
    image.header().id.lane_count = 3;
    Verdict v = validate(image.data(), image.size());
    EXPECT_NE(v.why.find("truncated"), std::string::npos) << v.why;
    image.header().id.lane_count = 1;
    EXPECT_EQ(validate(image.data(), image.size()).why, "") << "a larger file is fine";
}

TEST(ValidateSegmentTest, VersionZeroIsNotReadyRatherThanBad) {
    SegmentImage image;
    image.header().id.version.store(0);
    Verdict v = validate(image.data(), image.size());
    EXPECT_NE(v.why, "");
    EXPECT_TRUE(v.not_ready);
}

TEST(ValidateSegmentTest, AllZeroSegmentIsNotReadyRatherThanBad) {
    // What the agent sees between the SDK's truncate() and its header writes: magic and
    // version both still 0. Refusing it as "wrong magic" would lose the whole run.
    SegmentImage image;
    std::memset(static_cast<void*>(&image.header()), 0, image.size());
    Verdict v = validate(image.data(), image.size());
    EXPECT_NE(v.why, "");
    EXPECT_TRUE(v.not_ready) << "an all-zero (just created) segment was refused: " << v.why;
}

TEST(ValidateSegmentTest, RefusesTruncatedSegments) {
    SegmentImage image;
    for (std::size_t size : {std::size_t{0}, std::size_t{100}, sizeof(layout::Identity) - 1,
                             layout::kHeaderSize, image.size() - 1}) {
        Verdict v = validate(image.data(), size);
        EXPECT_NE(v.why.find("truncated"), std::string::npos) << "size " << size << ": " << v.why;
        EXPECT_FALSE(v.not_ready) << "size " << size;
    }
}

TEST(ValidateSegmentTest, RefusesWrongHeaderOrSlotSize) {
    SegmentImage a, b;
    a.header().id.header_size += 64;
    b.header().id.slot_size = 64;
    EXPECT_NE(validate(a.data(), a.size()).why, "");
    EXPECT_NE(validate(b.data(), b.size()).why, "");
}

TEST(ValidateSegmentTest, RefusesSlotCountsThatAreNotPowersOfTwoInRange) {
    for (std::uint32_t n : {0u, 32u, 96u, layout::kMaxSlots * 2}) {
        SegmentImage image(128);
        image.header().id.slot_count = n;
        EXPECT_NE(validate(image.data(), image.size()).why, "") << "slot count " << n;
    }
}

TEST(ValidateSegmentTest, RefusesRandomBytes) {
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        std::vector<unsigned char> bytes = random_bytes(layout::segment_size(2, 64), seed);
        std::vector<std::uint64_t> aligned((bytes.size() + 7) / 8);
        std::memcpy(aligned.data(), bytes.data(), bytes.size());
        Verdict v = validate(aligned.data(), bytes.size());
        EXPECT_NE(v.why, "") << "seed " << seed;
        EXPECT_FALSE(v.not_ready) << "seed " << seed;
    }
}

using SegmentReaderOpenTest = RingTest;

TEST_F(SegmentReaderOpenTest, RefusesCorruptShmFilesAndOpensAGoodOne) {
    SegmentImage good, bad_magic, bad_version, zero_version;
    bad_magic.header().id.magic = 0x1234;
    bad_version.header().id.version.store(7);
    zero_version.header().id.version.store(0);
    const std::string base = ns_.name() + ".999999.";
    good.write_shm(base + "0");
    bad_magic.write_shm(base + "1");
    bad_version.write_shm(base + "2");
    good.write_shm(base + "3", layout::kHeaderSize);  // truncated: no room for the slots
    std::vector<unsigned char> noise = random_bytes(4096, 99);
    write_shm_file(base + "4", noise.data(), noise.size());
    zero_version.write_shm(base + "5");
    write_shm_file(base + "6", nullptr, 0);  // created, not yet sized

    std::string why;
    bool not_ready = false;
    auto reader = agent::SegmentReader::open(base + "0", &why, &not_ready);
    ASSERT_TRUE(reader) << why;
    EXPECT_EQ(reader->session_id(), "image-run");
    for (const char* n : {"1", "2", "3", "4"}) {
        EXPECT_FALSE(agent::SegmentReader::open(base + n, &why, &not_ready)) << base << n;
        EXPECT_NE(why, "") << base << n;
        EXPECT_FALSE(not_ready) << base << n;
    }
    for (const char* n : {"5", "6"}) {
        EXPECT_FALSE(agent::SegmentReader::open(base + n, &why, &not_ready)) << base << n;
        EXPECT_TRUE(not_ready) << base << n << ": " << why;
    }
    EXPECT_FALSE(agent::SegmentReader::open(base + "missing", &why, &not_ready));
    EXPECT_FALSE(not_ready);
}

}  // namespace
}  // namespace trainscope::test
