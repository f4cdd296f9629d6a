#include "autostart/autostart_env.hpp"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iterator>


#include "autostart/agent_processes.hpp"
#include "support/agent_token.hpp"

namespace trainscope::test {

namespace {

constexpr const char* kSdk = "trainscope: ";
constexpr const char* kStarted = "trainscope: started agent pid ";
constexpr const char* kDashboard = "trainscope: dashboard at ";
constexpr const char* kListening = "trainscope-agent listening on ";

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string stderr_text(const ChildProcess& process) {
    std::string out;
    for (const std::string& l : process.stderr_lines()) out += "\n  " + l;
    return out;
}

std::optional<unsigned short> port_of_url(const std::string& url) {
    const std::string prefix = "http://127.0.0.1:";
    if (!starts_with(url, prefix)) return std::nullopt;
    std::string rest = url.substr(prefix.size());
    rest = rest.substr(0, rest.find('/'));
    if (rest.empty() || rest.size() > 5 || rest.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    int port = std::stoi(rest);
    if (port <= 0 || port > 65535) return std::nullopt;
    return static_cast<unsigned short>(port);
}

std::string own_agent_url(unsigned short port) {
    return "http://127.0.0.1:" + std::to_string(port) + "/?token=" + test_token();
}

std::optional<pid_t> SdkSays::started_agent(ChildProcess& trainer, std::chrono::milliseconds timeout) {
    auto line = trainer.wait_stderr([](const std::string& l) { return starts_with(l, kStarted); }, timeout);
    if (!line) return std::nullopt;
    return static_cast<pid_t>(std::stol(line->substr(std::string(kStarted).size())));
}

std::optional<unsigned short> SdkSays::dashboard_port(ChildProcess& trainer,
                                                      std::chrono::milliseconds timeout) {
    auto line = trainer.wait_stderr([](const std::string& l) { return starts_with(l, kDashboard); }, timeout);
    if (!line) return std::nullopt;
    return port_of_url(line->substr(std::string(kDashboard).size()));
}

std::vector<std::string> SdkSays::lines(const ChildProcess& trainer, const std::string& text) {
    std::vector<std::string> out;
    for (const std::string& l : trainer.stderr_lines())
        if (starts_with(l, kSdk) && l.find(text) != std::string::npos) out.push_back(l);
    return out;
}

AutostartTest::AutostartTest() : xdg_("tstest-xdg"), runtime_("tstest-run") {}

AutostartTest::~AutostartTest() {
    // Also after a failed SetUp or an exception: nothing of ours may outlive the test.
    trainers_.clear();
    own_agent_.reset();
    stop_agents(ns());
    // An agent killed hard leaves its file; /dev/shm/trainscope-<uid> is shared by every test.
    std::error_code ec;
    for (const std::string& dir : detail::namespace_dirs(namespace_env()))
        std::filesystem::remove(detail::agent_file_path(dir, ns()), ec);
}

void AutostartTest::TearDown() {
    for (auto& t : trainers_) t->stop(2s);
    if (own_agent_) own_agent_->stop(5s);
    stop_agents(ns());
    EXPECT_TRUE(agent_processes(ns()).empty())
        << "an agent of " << ns() << " survived SIGTERM and SIGKILL";
}

ChildProcess::Env AutostartTest::trainer_env(const ChildProcess::Env& extra) const {
    ChildProcess::Env env{
        {"TRAINSCOPE_NAMESPACE", ns()},
        {"XDG_DATA_HOME", xdg_.path()},
        {"XDG_RUNTIME_DIR", runtime_.path()},
        {"TRAINSCOPE_PORT", "0"},
        {"TRAINSCOPE_AGENT", TS_AGENT_BIN},
        {"TRAINSCOPE_AUTOSTART", "1"},
        {"TRAINSCOPE_RUN_ID", ""},  // the SDK treats empty as unset
        {"TRAINSCOPE_TOKEN", test_token()},
        {"RANK", "0"},
    };
    for (const auto& [key, value] : extra) env[key] = value;
    return env;
}

ChildProcess& AutostartTest::start_trainer(const std::vector<std::string>& args,
                                           const ChildProcess::Env& extra) {
    return start_with_trainer_env(TS_PRODUCER_BIN, args, extra);
}

ChildProcess& AutostartTest::start_with_trainer_env(const std::string& binary,
                                                    const std::vector<std::string>& args,
                                                    const ChildProcess::Env& extra) {
    trainers_.push_back(std::make_unique<ChildProcess>(binary, args, trainer_env(extra)));
    return *trainers_.back();
}

unsigned short AutostartTest::start_own_agent() {
    own_agent_ = std::make_unique<ChildProcess>(
        TS_AGENT_BIN, std::vector<std::string>{"--port=0", "--namespace=" + ns(),
                                               "--data-dir=" + data_dir(), "--plugins-dir="},
        ChildProcess::Env{{"XDG_DATA_HOME", xdg_.path()},
                          {"XDG_RUNTIME_DIR", runtime_.path()},
                          {"TRAINSCOPE_TOKEN", test_token()}});
    auto url = own_agent_->wait_stdout(
        [](const std::string& l) { return starts_with(l, kListening); }, 15s);
    auto port = url ? port_of_url(url->substr(std::string(kListening).size())) : std::nullopt;
    if (!port) {
        std::string log;
        for (const std::string& line : own_agent_->stderr_lines()) log += "\n  " + line;
        ADD_FAILURE() << "the agent did not say where it listens; its stderr:" << log;
        return 0;
    }
    return *port;
}

long AutostartTest::lock_holder() const {
    return detail::find_agent(ns(), detail::namespace_dirs(namespace_env())).pid;
}

std::string AutostartTest::lock_url() const {
    return detail::find_agent(ns(), detail::namespace_dirs(namespace_env())).url;
}

bool AutostartTest::lock_file_exists() const {
    std::error_code ec;
    for (const std::string& dir : detail::namespace_dirs(namespace_env()))
        if (std::filesystem::exists(detail::agent_file_path(dir, ns()), ec)) return true;
    return false;
}

AutostartTest::PrintUrl AutostartTest::print_url(const ChildProcess::Env& extra) const {
    ChildProcess tool(TS_AGENT_BIN, {"--print-url", "--namespace=" + ns()}, trainer_env(extra));
    PrintUrl said;
    auto status = tool.wait_exit(10s);
    auto never = [](const std::string&) { return false; };
    tool.wait_stdout(never, 5s);
    tool.wait_stderr(never, 5s);
    if (status && WIFEXITED(*status)) said.exit_code = WEXITSTATUS(*status);
    said.out = tool.stdout_lines();
    said.err = tool.stderr_lines();
    return said;
}

std::string AutostartTest::session_of(ChildProcess& trainer) {
    auto id = trainer.wait_stdout_prefix("session ", 10s);
    EXPECT_TRUE(id && !id->empty()) << "the trainer printed no session id";
    return id.value_or("");
}

::testing::AssertionResult AutostartTest::finished_cleanly(ChildProcess& trainer,
                                                          std::chrono::milliseconds timeout) {
    auto status = trainer.wait_exit(timeout);
    if (!status) return ::testing::AssertionFailure() << "the trainer is still running";
    // Both pipes to their end: only then are all the lines the trainer wrote ours to count.
    auto never = [](const std::string&) { return false; };
    trainer.wait_stdout(never, 5s);
    trainer.wait_stderr(never, 5s);
    auto done = trainer.wait_stdout_prefix("done ", 0ms);
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
        return ::testing::AssertionFailure() << "the trainer's wait status is " << *status;
    if (!done || *done != "0")
        return ::testing::AssertionFailure() << "the trainer printed \"done " << done.value_or("?")
                                             << "\", not \"done 0\"";
    return ::testing::AssertionSuccess();
}

}  // namespace trainscope::test
