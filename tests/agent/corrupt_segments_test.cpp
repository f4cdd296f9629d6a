// Proves: malformed segments in the agent's namespace — wrong magic, wrong version (a
// layout-v1 segment among them), wrong sizes, truncated, random bytes, a version that stays
// 0 — are each refused with exactly
// one log line naming it, while the agent keeps collecting a good trainer's run in the same
// namespace exactly, never crashes, and still answers /healthz.
#include <cstring>

#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/segment_image.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using CorruptSegmentsTest = AgentProcessTest;

/// Writes the bad segments "<ns>.999999.<k>"; returns their names.
std::vector<std::string> write_corrupt_segments(const std::string& ns) {
    const std::string base = ns + ".999999.";
    std::vector<std::string> names;
    auto name = [&](const char* k) { return names.emplace_back(base + k); };

    SegmentImage wrong_magic, wrong_version, wrong_sizes, never_ready, valid, layout_v1;
    wrong_magic.header().id.magic = 0x4242424242424242ULL;
    wrong_magic.write_shm(name("0"));
    wrong_version.header().id.version.store(layout::kLayoutVersion + 41);
    wrong_version.write_shm(name("1"));
    valid.write_shm(name("2"), layout::kHeaderSize + 100);  // truncated inside the ring
    std::vector<unsigned char> noise = random_bytes(64 * 1024, 2024);
    write_shm_file(name("3"), noise.data(), noise.size());
    never_ready.header().id.version.store(0);
    never_ready.write_shm(name("4"));
    valid.write_shm(name("5"), 100);  // truncated inside the identity
    wrong_sizes.header().id.slot_size = 48;
    wrong_sizes.write_shm(name("6"));
    layout_v1.header().id.version.store(1);  // left by a trainer built with the v1 SDK
    layout_v1.write_shm(name("7"));
    return names;
}

TEST_F(CorruptSegmentsTest, EachRefusedOnceWhileAGoodRunIsCollected) {
    std::vector<std::string> corrupt = write_corrupt_segments(h_.name_space());
    ChildProcess& trainer =
        h_.start_producer({"--threads", "2", "--metrics", "2", "--steps", "5000"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(AgentHarness::done_of(trainer));
    EXPECT_TRUE(h_.wait_status(id, "finished"));
    for (int t = 0; t < 2; ++t)
        for (int m = 0; m < 2; ++m) EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, t, m, 5000}));

    // The never-ready one is refused only after a grace period; then every one has its line.
    bool all_named = wait_until([&] {
        for (const std::string& n : corrupt)
            if (h_.agent_log_lines_naming(n).empty()) return false;
        return true;
    });
    EXPECT_TRUE(all_named);
    // Many scans later, still one line each.
    std::this_thread::sleep_for(300ms);
    for (const std::string& n : corrupt) {
        std::vector<std::string> lines = h_.agent_log_lines_naming(n);
        std::string joined;
        for (const std::string& line : lines) joined += "\n  " + line;
        EXPECT_EQ(lines.size(), 1u) << n << joined;
    }
    EXPECT_TRUE(h_.agent().running()) << "the agent died";
    EXPECT_EQ(h_.get("/healthz").status, 200);
}

}  // namespace
}  // namespace trainscope::test
