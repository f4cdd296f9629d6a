// Proves: a second agent asked for a port another agent already listens on refuses to start
// and says why, and the first one keeps serving every request. (Poco's ServerSocket
// constructor sets SO_REUSEPORT, with which both bound the port and the kernel shared the
// requests between them: a page got the other agent's 401s at random.)
#include <sys/wait.h>

#include "agent/agent_harness.hpp"
#include "support/agent_token.hpp"

namespace trainscope::test {
namespace {

TEST(PortTaken, ASecondAgentOnTheSamePortRefusesToStart) {
    AgentHarness first;
    ASSERT_TRUE(first.start_agent());
    ShmNamespace ns;
    TempDir data("tstest-data");
    ChildProcess second(TS_AGENT_BIN,
                        {"--port=" + std::to_string(first.port()), "--namespace=" + ns.name(),
                         "--data-dir=" + data.path(), "--plugins-dir="},
                        {{"TRAINSCOPE_TOKEN", "another-agents-token"}});
    auto status = second.wait_exit(10s);
    ASSERT_TRUE(status) << "the second agent is running on a port that was taken";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
    second.wait_stderr([](const std::string&) { return false; }, 2s);
    std::string log;
    for (const std::string& line : second.stderr_lines()) log += line + "\n";
    EXPECT_NE(log.find("in use"), std::string::npos) << log;
    for (int i = 0; i < 20; ++i) EXPECT_EQ(first.get("/api/runs").status, 200) << "request " << i;
}

}  // namespace
}  // namespace trainscope::test
