// Proves: trainscope-stat lists a live run (name, pid alive, metrics) and the agent (pid, URL
// without its token), lists a corrupt segment with the reason it is refused, and only reads:
// a run's segment is byte for byte the same after it, so no slot is handed back behind the
// agent's back.
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include <trainscope/detail/process.hpp>

#include "agent/agent_harness.hpp"
#include "support/agent_token.hpp"
#include "support/segment_image.hpp"

namespace trainscope::test {
namespace {

struct StatOutput {
    std::string text;
    int exit_code = -1;
};

/// Runs trainscope-stat on namespace ns to its end.
StatOutput run_stat(const std::string& ns) {
    ChildProcess stat(TS_STAT_BIN, {"--namespace", ns});
    // No line matches: this returns once stdout is closed, with every line read.
    stat.wait_stdout([](const std::string&) { return false; }, 10s);
    stat.wait_stderr([](const std::string&) { return false; }, 10s);
    StatOutput out;
    for (const std::string& line : stat.stdout_lines()) out.text += line + "\n";
    for (const std::string& line : stat.stderr_lines()) out.text += line + "\n";
    auto status = stat.wait_exit(10s);
    if (status && WIFEXITED(*status)) out.exit_code = WEXITSTATUS(*status);
    return out;
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(Stat, ListsALiveRunItsMetricsAndTheAgentWithoutItsToken) {
    AgentHarness h;
    ASSERT_TRUE(h.start_agent());
    ChildProcess& producer = h.start_producer(
        {"--name", "stat-run", "--metrics", "2", "--steps", "100", "--hold_ms", "20000"});
    const std::string id = AgentHarness::session_of(producer);
    ASSERT_TRUE(h.wait_points(id, 200));  // its metric names are published by now

    StatOutput out = run_stat(h.name_space());
    EXPECT_EQ(out.exit_code, 0) << out.text;
    EXPECT_TRUE(contains(out.text, "run \"stat-run\" session " + id)) << out.text;
    EXPECT_TRUE(contains(out.text, "pid " + std::to_string(producer.pid()) + " alive")) << out.text;
    EXPECT_TRUE(contains(out.text, "t0/m0, t0/m1")) << out.text;
    EXPECT_TRUE(contains(out.text, "agent pid " + std::to_string(h.agent().pid()) + " url http"))
        << out.text;
    EXPECT_FALSE(contains(out.text, test_token())) << "the token was printed:\n" << out.text;
    EXPECT_FALSE(contains(out.text, "token=")) << out.text;
}

TEST(Stat, ListsACorruptSegmentWithTheReason) {
    AgentHarness h;  // no agent: only the corrupt segment is there
    const std::string name = h.name_space() + ".9";
    std::vector<unsigned char> junk = random_bytes(8192, 14);
    // A published layout version (bytes 8..11), so the reader looks further and names the fault.
    junk[8] = layout::kLayoutVersion, junk[9] = junk[10] = junk[11] = 0;
    write_shm_file(name, junk.data(), junk.size());

    StatOutput out = run_stat(h.name_space());
    EXPECT_EQ(out.exit_code, 0) << out.text;
    EXPECT_TRUE(contains(out.text, "segment " + name + "\n  refused: wrong magic")) << out.text;
    EXPECT_TRUE(contains(out.text, "agent: none")) << out.text;
}

TEST(Stat, OnlyReadsTheSegments) {
    AgentHarness h;  // no agent drains the run: whatever moves in it, stat moved
    ChildProcess& producer = h.start_producer({"--name", "untouched", "--steps", "50", "--hold_ms", "20000"});
    AgentHarness::session_of(producer);
    ASSERT_TRUE(AgentHarness::done_of(producer, 10s)) << "the producer did not finish logging";
    std::vector<std::string> segments = trainer_segments(h.name_space());
    ASSERT_EQ(segments.size(), 1u);
    const std::string path = shm_path(segments[0]);

    const std::string before = file_bytes(path);
    StatOutput first = run_stat(h.name_space());
    StatOutput second = run_stat(h.name_space());
    EXPECT_EQ(first.exit_code, 0) << first.text;
    EXPECT_TRUE(contains(first.text, ": write 50 read 0 fill 50/")) << first.text;
    EXPECT_EQ(first.text, second.text) << "a second look saw something the first one changed";
    EXPECT_TRUE(before == file_bytes(path)) << "the segment changed under trainscope-stat";
}

TEST(Stat, FailsWhenTheNamespaceHasNothing) {
    ShmNamespace ns;
    StatOutput out = run_stat(ns.name());
    EXPECT_EQ(out.exit_code, 1) << out.text;
    EXPECT_TRUE(contains(out.text, "no segments and no agent")) << out.text;
}

}  // namespace
}  // namespace trainscope::test
