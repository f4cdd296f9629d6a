// A real agent loading the plugins of one directory, and real trainers in its namespace,
// for the tests of plugins served over HTTP (needs TS_AGENT_BIN and TS_PRODUCER_BIN defined).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/agent_token.hpp"
#include "support/process.hpp"
#include "support/shm_names.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::test {

class PluginAgentTest : public ::testing::Test {
protected:
    void start_agent(const std::string& plugins_dir, std::vector<std::string> extra = {}) {
        // The system plugin samples only where a test asks for it (a later
        // --plugin-option=system.enabled=true wins): its points would change the counts the
        // other plugin tests compare.
        std::vector<std::string> args = {"--port=0", "--namespace=" + ns_.name(), "--data-dir=" + dir_.path(),
                                         "--plugins-dir=" + plugins_dir, "--plugin-option=system.enabled=false"};
        args.insert(args.end(), extra.begin(), extra.end());
        agent_ = std::make_unique<ChildProcess>(TS_AGENT_BIN, args, ChildProcess::Env{{"TRAINSCOPE_TOKEN", test_token()}});
        auto url = agent_->wait_stdout_prefix("trainscope-agent listening on http://127.0.0.1:");
        ASSERT_TRUE(url) << "agent did not start";
        port_ = static_cast<unsigned short>(std::stoi(*url));
    }

    std::string run_producer(const std::vector<std::string>& args) {
        ChildProcess producer(TS_PRODUCER_BIN, args,
                              {{"TRAINSCOPE_NAMESPACE", ns_.name()}, {"TRAINSCOPE_AUTOSTART", "0"}});
        auto session = producer.wait_stdout_prefix("session ");
        EXPECT_TRUE(producer.wait_stdout_prefix("done "));
        producer.wait_exit(10s);
        return session.value_or("");
    }

    ShmNamespace ns_;
    TempDir dir_;
    std::unique_ptr<ChildProcess> agent_;
    unsigned short port_ = 0;
};

}  // namespace trainscope::test
