#include "agent/agent_harness.hpp"

#include <cctype>

#include "support/agent_token.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {

namespace {

constexpr const char* kListening = "trainscope-agent listening on http://127.0.0.1:";

std::int64_t int_member(const rapidjson::Value& v, const char* name) {
    if (!v.IsObject()) return -1;
    auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

}  // namespace

AgentHarness::AgentHarness() : data_dir_("tstest-data") {}

AgentHarness::~AgentHarness() {
    // Trainers first: the agent may still be draining them.
    for (auto& p : producers_) p->stop(2s);
    if (agent_) agent_->stop(5s);
}

bool AgentHarness::start_agent(const std::vector<std::string>& extra_args, const ChildProcess::Env& env) {
    if (agent_) agent_->stop(5s);
    // The system plugin would add a point per second per series to every run that lives a
    // second or two (a count that depends on timing); these tests count exactly what their
    // trainers logged. Its own tests are in tests/plugins/.
    std::vector<std::string> args{"--port=0", "--namespace=" + ns_.name(), "--data-dir=" + data_dir_.path(),
                                  "--plugin-option=system.enabled=false"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    ChildProcess::Env full = env;
    full.emplace("TRAINSCOPE_TOKEN", test_token());  // unless `env` has its own
    agent_ = std::make_unique<ChildProcess>(TS_AGENT_BIN, args, full);
    auto rest = agent_->wait_stdout_prefix(kListening, 15s);
    if (!rest) {
        std::string log;
        for (const std::string& line : agent_->stderr_lines()) log += "\n  " + line;
        ADD_FAILURE() << "the agent did not say it was listening; its stderr:" << log;
        return false;
    }
    port_ = static_cast<unsigned short>(std::stoi(*rest));
    url_ = "http://127.0.0.1:" + *rest;
    return port_ != 0;
}

void AgentHarness::kill_agent() {
    if (agent_) agent_->kill_now();
}

ChildProcess& AgentHarness::start_producer(const std::vector<std::string>& args,
                                           const ChildProcess::Env& env) {
    ChildProcess::Env full = env;
    full["TRAINSCOPE_NAMESPACE"] = ns_.name();
    full["TRAINSCOPE_AUTOSTART"] = "0";  // this test starts (and kills) its own agent
    producers_.push_back(std::make_unique<ChildProcess>(TS_PRODUCER_BIN, args, full));
    return *producers_.back();
}

std::string AgentHarness::session_of(ChildProcess& producer) {
    auto id = producer.wait_stdout_prefix("session ", 10s);
    EXPECT_TRUE(id && !id->empty()) << "the producer printed no session id";
    return id.value_or("");
}

std::optional<std::uint64_t> AgentHarness::done_of(ChildProcess& producer,
                                                   std::chrono::milliseconds timeout) {
    auto n = producer.wait_stdout_prefix("done ", timeout);
    if (!n) return std::nullopt;
    return std::stoull(*n);
}

std::unique_ptr<agent::SegmentReader> AgentHarness::open_trainer_segment() const {
    std::string name = ns_.only_segment();
    if (name.empty()) return nullptr;
    std::string why;
    bool not_ready = false;
    auto reader = agent::SegmentReader::open(name, &why, &not_ready);
    EXPECT_TRUE(reader) << "cannot map " << name << ": " << why;
    return reader;
}

rapidjson::Document AgentHarness::get_json(const std::string& target) const {
    HttpResponse r = get(target);
    rapidjson::Document doc;
    if (r.status != 200) {
        ADD_FAILURE() << "GET " << target.substr(0, 200) << ": status " << r.status << " "
                      << r.error << " " << r.body.substr(0, 200);
        return doc;
    }
    doc = parse_json(r.body);
    if (doc.HasParseError()) {
        ADD_FAILURE() << "GET " << target.substr(0, 200)
                      << ": body is not JSON: " << r.body.substr(0, 200);
        doc.SetNull();
    }
    return doc;
}

rapidjson::Document AgentHarness::run(const std::string& session_id) const {
    HttpResponse r = get("/api/runs/" + session_id);
    rapidjson::Document doc;
    if (r.status == 200) doc = parse_json(r.body);
    if (doc.HasParseError()) doc.SetNull();
    return doc;
}

::testing::AssertionResult AgentHarness::wait_status(const std::string& session_id,
                                                     const std::string& status,
                                                     std::chrono::milliseconds timeout) const {
    std::string last;
    if (wait_until([&] { return (last = string_member(run(session_id), "status")) == status; },
                   timeout, 50ms))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "run " << session_id << " is still '" << last << "', not '" << status << "', after "
           << timeout.count() << " ms";
}

::testing::AssertionResult AgentHarness::wait_points(const std::string& session_id,
                                                     std::int64_t points,
                                                     std::chrono::milliseconds timeout) const {
    std::int64_t last = -1;
    if (wait_until([&] { return (last = int_member(run(session_id), "points")) >= points; },
                   timeout, 50ms))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "run " << session_id << " has " << last << " points, not " << points << ", after "
           << timeout.count() << " ms";
}

::testing::AssertionResult AgentHarness::wait_segments_removed(
    std::chrono::milliseconds timeout) const {
    std::vector<std::string> left;
    if (wait_until([&] { return (left = trainer_segments(ns_.name())).empty(); }, timeout))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << left.size() << " segment(s) still in /dev/shm, e.g. " << left.front();
}

std::vector<std::string> AgentHarness::agent_log_lines_naming(const std::string& text) const {
    std::vector<std::string> out;
    if (!agent_) return out;
    for (const std::string& line : agent_->stderr_lines()) {
        // Whole names only: "<ns>.1" must not count the lines about "<ns>.10".
        for (std::size_t at = line.find(text); at != std::string::npos;
             at = line.find(text, at + 1)) {
            std::size_t end = at + text.size();
            if (end == line.size() || !std::isalnum(static_cast<unsigned char>(line[end]))) {
                out.push_back(line);
                break;
            }
        }
    }
    return out;
}

}  // namespace trainscope::test
