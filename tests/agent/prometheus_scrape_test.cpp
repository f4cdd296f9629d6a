// Proves: a real Prometheus (Debian's, its own temp dir and port, stopped by pid) scrapes two
// agents with their tokens, using the scrape config docs/prometheus.md shows, and its query
// API then returns trainscope_ series of both: the agents' counters and the newest value of a
// metric of each agent's run.
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "agent/agent_harness.hpp"
#include "support/agent_token.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

unsigned short free_port() {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    return probe.address().port();
}

/// One job per agent: each agent has a token of its own, read from a file beside the config.
std::string scrape_config(const std::string& dir, const std::vector<unsigned short>& ports) {
    std::ofstream(dir + "/agent.token") << test_token();
    std::string yaml =
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "scrape_configs:\n";
    for (std::size_t i = 0; i < ports.size(); ++i)
        yaml += "  - job_name: trainscope-node" + std::to_string(i) + "\n"
                "    authorization:\n"
                "      credentials_file: " + dir + "/agent.token\n"
                "    static_configs:\n"
                "      - targets: ['127.0.0.1:" + std::to_string(ports[i]) + "']\n";
    std::ofstream(dir + "/prometheus.yml") << yaml;
    return dir + "/prometheus.yml";
}

/// The `job` labels of the series an instant query returns.
std::set<std::string> jobs_answering(unsigned short port, const std::string& promql) {
    std::string encoded;
    Poco::URI::encode(promql, "{}\"=/&+ ", encoded);
    HttpResponse r = http_get(port, "/api/v1/query?query=" + encoded);
    std::set<std::string> jobs;
    if (r.status != 200) return jobs;
    rapidjson::Document doc = parse_json(r.body);
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("data")) return jobs;
    const rapidjson::Value& result = doc["data"]["result"];
    for (const rapidjson::Value& series : result.GetArray())
        jobs.insert(string_member(series["metric"], "job"));
    return jobs;
}

TEST(PrometheusScrape, ARealPrometheusScrapesTwoAgents) {
    ASSERT_TRUE(std::filesystem::exists(kPrometheus))
        << kPrometheus << " is missing: tools/bootstrap installs Debian's prometheus";
    AgentHarness node0, node1;
    ASSERT_TRUE(node0.start_agent());
    ASSERT_TRUE(node1.start_agent());
    std::string run0 = AgentHarness::session_of(node0.start_producer({"--name", "node0-run", "--steps", "200"}));
    std::string run1 = AgentHarness::session_of(node1.start_producer({"--name", "node1-run", "--steps", "300"}));
    ASSERT_TRUE(node0.wait_status(run0, "finished"));
    ASSERT_TRUE(node1.wait_status(run1, "finished"));

    TempDir dir;
    unsigned short port = free_port();
    std::string config = scrape_config(dir.path(), {node0.port(), node1.port()});
    ChildProcess prometheus(kPrometheus,
                            {"--config.file=" + config, "--storage.tsdb.path=" + dir.path() + "/data",
                             "--web.listen-address=127.0.0.1:" + std::to_string(port),
                             "--log.level=warn"});
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/-/ready").status == 200; }, 30s, 200ms))
        << "Prometheus did not get ready on port " << port;

    const std::set<std::string> both{"trainscope-node0", "trainscope-node1"};
    EXPECT_TRUE(wait_until([&] { return jobs_answering(port, "trainscope_points_stored_total") == both; },
                           30s, 250ms));
    // The newest value of t0/m0: step 199 -> 99.5 on node 0, step 299 -> 149.5 on node 1.
    EXPECT_TRUE(wait_until([&] {
        return jobs_answering(port, "trainscope_metric_last{metric=\"t0/m0\",run=\"node0-run\"} == 99.5") ==
                   std::set<std::string>{"trainscope-node0"} &&
               jobs_answering(port, "trainscope_metric_last{metric=\"t0/m0\",run=\"node1-run\"} == 149.5") ==
                   std::set<std::string>{"trainscope-node1"};
    }, 30s, 250ms));
    // Both scrapes succeeded with the token (a 401 would show as up == 0).
    EXPECT_EQ(jobs_answering(port, "up == 1"), both);
    EXPECT_TRUE(prometheus.running()) << "Prometheus exited";
}

}  // namespace
}  // namespace trainscope::test
