// Proves: a real Prometheus (Debian's, its own temp dir and port, stopped by pid) scrapes a
// hub with its token, and its query API returns the newest value of a run's metric for each
// rank, though the ranks ran on two node agents: the hub exposes them from PostgreSQL's
// `latest` table; and the hub's own figures (its pooled connections).
#include <gtest/gtest.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "forward/hub_process.hpp"
#include "forward/node_agent.hpp"
#include "support/agent_token.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

unsigned short free_port() {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    return probe.address().port();
}

/// The `rank` labels of the series an instant query returns.
std::set<std::string> ranks_answering(unsigned short port, const std::string& promql) {
    std::string encoded;
    Poco::URI::encode(promql, "{}\"=/&+ ", encoded);
    HttpResponse r = http_get(port, "/api/v1/query?query=" + encoded);
    std::set<std::string> ranks;
    if (r.status != 200) return ranks;
    rapidjson::Document doc = parse_json(r.body);
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("data")) return ranks;
    for (const rapidjson::Value& series : doc["data"]["result"].GetArray())
        ranks.insert(string_member(series["metric"], "rank"));
    return ranks;
}

TEST(HubPrometheus, ARealPrometheusScrapesAHub) {
    ASSERT_TRUE(std::filesystem::exists(kPrometheus))
        << kPrometheus << " is missing: tools/bootstrap installs Debian's prometheus";
    PostgresServer postgres;
    NodeAgent a("node-a", postgres.conninfo()), b("node-b", postgres.conninfo());
    ASSERT_TRUE(a.start());
    ASSERT_TRUE(b.start());
    HubProcess hub(postgres.conninfo());
    ASSERT_NE(hub.port, 0);
    const std::string run = "scraped-" + std::to_string(::getpid());
    ChildProcess& t0 = a.start_trainer(run, 0, {"--name", "scraped", "--threads", "1", "--metrics", "1", "--steps", "200"});
    ChildProcess& t1 = b.start_trainer(run, 1, {"--name", "scraped", "--threads", "1", "--metrics", "1", "--steps", "300",
                                                "--value_offset", "100"});
    ASSERT_TRUE(t0.wait_stdout_prefix("done ", 30s));
    ASSERT_TRUE(t1.wait_stdout_prefix("done ", 30s));

    TempDir dir;
    std::ofstream(dir.path() + "/hub.token") << test_token();
    std::ofstream(dir.path() + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
           "  - job_name: trainscope-hub\n"
           "    authorization:\n"
           "      credentials_file: " << dir.path() << "/hub.token\n"
           "    static_configs:\n"
           "      - targets: ['127.0.0.1:" << hub.port << "']\n";
    unsigned short port = free_port();
    ChildProcess prometheus(kPrometheus, {"--config.file=" + dir.path() + "/prometheus.yml",
                                          "--storage.tsdb.path=" + dir.path() + "/data",
                                          "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"});
    ASSERT_TRUE(wait_until([&] { return http_get(port, "/-/ready").status == 200; }, 30s, 200ms))
        << "Prometheus did not get ready on port " << port;

    // Rank 0 (node a) ended at step 199: 99.5; rank 1 (node b) at step 299: 149.5 + 100.
    std::string of_run = "trainscope_metric_last{session_id=\"" + run + "\",metric=\"t0/m0\"";
    EXPECT_TRUE(wait_until([&] {
        return ranks_answering(port, of_run + ",rank=\"0\"} == 99.5") == std::set<std::string>{"0"} &&
               ranks_answering(port, of_run + ",rank=\"1\"} == 249.5") == std::set<std::string>{"1"};
    }, 40s, 250ms)) << http_get(hub.port, "/metrics").body;
    EXPECT_EQ(ranks_answering(port, "trainscope_metric_last_step{session_id=\"" + run + "\"} == 299"),
              std::set<std::string>{"1"});
    EXPECT_FALSE(ranks_answering(port, "trainscope_hub_pg_connections_max == 8").empty());
    EXPECT_FALSE(ranks_answering(port, "up{job=\"trainscope-hub\"} == 1").empty()) << "the scrape failed (token?)";
    EXPECT_TRUE(prometheus.running()) << "Prometheus exited";
}

}  // namespace
}  // namespace trainscope::test
