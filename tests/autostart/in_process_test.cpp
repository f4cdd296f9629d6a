// One trainer process that makes several Runs (train and eval, a sweep): it starts at most
// one agent and says why it cannot at most once. Runs here live in the test process itself,
// with the trainer environment set for the duration of the test.
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

#include <trainscope/trainscope.hpp>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

class AutostartInProcess : public AutostartTest {
protected:
    /// Sets the trainer environment (plus `extra`) in this process until the test ends.
    void set_env(const ChildProcess::Env& extra) {
        for (const auto& [key, value] : trainer_env(extra)) {
            const char* old = std::getenv(key.c_str());
            saved_.emplace(key, old ? std::optional<std::string>(old) : std::nullopt);
            ::setenv(key.c_str(), value.c_str(), 1);
        }
    }
    void TearDown() override {
        for (const auto& [key, value] : saved_) {
            if (value) ::setenv(key.c_str(), value->c_str(), 1);
            else ::unsetenv(key.c_str());
        }
        AutostartTest::TearDown();
    }

    /// Lines of `text` that contain `needle`.
    static std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
        std::vector<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);)
            if (line.find(needle) != std::string::npos) out.push_back(line);
        return out;
    }

private:
    std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(AutostartInProcess, ManyRunsWithoutAnAgentSayWhyOnce) {
    set_env({{"TRAINSCOPE_AGENT", "/nonexistent/trainscope-agent"}});
    ::testing::internal::CaptureStderr();
    for (int i = 0; i < 3; ++i) {
        trainscope::Run run("sweep-" + std::to_string(i));
        EXPECT_EQ(run.log("loss", 0, 1.0), trainscope::LogStatus::ok);  // training goes on
    }
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(lines_with(err, "cannot start the agent").size(), 1u) << err;
}

TEST_F(AutostartInProcess, TwoRunsBackToBackStartOneAgent) {
    set_env({});
    ::testing::internal::CaptureStderr();
    trainscope::Run train("train"), eval("eval");
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(lines_with(err, "started agent pid").size(), 1u) << err;
    // In the end one agent serves, and listens (the losers of the race have exited).
    EXPECT_TRUE(wait_until([&] { return agent_processes(ns()).size() == 1 && !lock_url().empty(); }, 10s))
        << agent_processes(ns()).size() << " agents";
}

}  // namespace
}  // namespace trainscope::test
