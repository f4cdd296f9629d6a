// Proves: the dashboard page the agent serves carries its first load: the run the address
// names (?run=, else the newest) and the series its chart shows by default at rank 0, each
// equal to what GET /api/runs/{id} and GET /api/runs/{id}/metrics/{name}?max_points=N&rank=0
// answer; ?metrics= and ?max_points= are read as the page reads them; a name holding
// "</script>" stays text; and a page that cannot carry it (no run, ?run= naming none, a
// malformed query, answers too big to carry) is the page file as before.
#include "agent/agent_harness.hpp"
#include "serve/page_first_load.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

using agent::shown_by_default;

const std::string kOpen = "<script type=\"application/json\" id=\"trainscope-first-load\">";

/// The page's first load, parsed; a null document when the page carries none.
rapidjson::Document first_load_of(const HttpResponse& page) {
    rapidjson::Document doc;
    std::size_t at = page.body.find(kOpen);
    if (at == std::string::npos) return doc;
    std::size_t begin = at + kOpen.size();
    std::size_t end = page.body.find("</script>", begin);
    if (end == std::string::npos) return doc;
    return parse_json(page.body.substr(begin, end - begin));
}

/// The metrics of the first load's series, in order.
std::vector<std::string> series_names(const rapidjson::Value& load) {
    std::vector<std::string> out;
    for (const auto& s : load["series"].GetArray()) out.push_back(s["metric"].GetString());
    return out;
}

/// Success if the first load's series `i` equals the REST answer for it.
::testing::AssertionResult series_equals_rest(const AgentHarness& h, const rapidjson::Value& load, std::size_t i) {
    const rapidjson::Value& s = load["series"][static_cast<rapidjson::SizeType>(i)];
    std::string metric = s["metric"].GetString();
    std::string encoded;
    for (char c : metric) encoded += c == '/' ? std::string("%2F") : std::string(1, c);
    std::string target = "/api/runs/" + std::string(load["run"]["session_id"].GetString()) + "/metrics/" + encoded +
                         "?max_points=" + std::to_string(load["max_points"].GetInt()) + "&rank=0";
    rapidjson::Document rest = h.get_json(target);
    if (rest.IsNull()) return ::testing::AssertionFailure() << target << " did not answer";
    if (!(s["answer"] == rest)) return ::testing::AssertionFailure() << metric << " differs from " << target;
    if (s["rank"].GetInt() != 0) return ::testing::AssertionFailure() << metric << " is not rank 0";
    return ::testing::AssertionSuccess();
}

TEST(PageFirstLoad, ShownByDefaultIsThePagesRule) {
    // The cases of page_units.test.js ("first load: ..."), for the page's shownByDefault.
    std::vector<std::string> metrics = {"lr", "train/loss", "system/cpu_percent", "val/loss", "trend/slope"};
    EXPECT_EQ(shown_by_default(metrics, {}), (std::vector<std::string>{"train/loss", "val/loss"}));
    EXPECT_EQ(shown_by_default(metrics, {"lr"}), (std::vector<std::string>{"lr"}));
    EXPECT_EQ(shown_by_default({"system/cpu_percent", "acc", "lr"}, {}), (std::vector<std::string>{"acc"}));
    EXPECT_EQ(shown_by_default({"Val/LOSS", "x"}, {}), (std::vector<std::string>{"Val/LOSS"}));
    EXPECT_EQ(shown_by_default({"system/cpu_percent"}, {}), std::vector<std::string>{});
    EXPECT_EQ(shown_by_default(metrics, {"nope"}), std::vector<std::string>{});
}

TEST(PageFirstLoad, ItsTextCannotEndTheScript) {
    std::string page = std::string("<head>\n  ") + agent::kFirstLoadMarker + "\n</head>";
    std::string out = agent::page_with_first_load(page, R"({"name":"a</script><script>x()</script>"})");
    EXPECT_EQ(out.find("</script><script>"), std::string::npos);
    EXPECT_NE(out.find(R"(a\u003c/script>\u003cscript>x()\u003c/script>)"), std::string::npos);
    EXPECT_EQ(agent::page_with_first_load("<head></head>", "{}"), "<head></head>");  // no marker
}

class PageFirstLoadTest : public AgentProcessTest {};

TEST_F(PageFirstLoadTest, CarriesTheRunAndItsChartSeriesAsTheApiAnswersThem) {
    // No run yet: the page file, revalidated by its ETag.
    HttpResponse empty = h_.get("/");
    ASSERT_EQ(empty.status, 200);
    EXPECT_TRUE(first_load_of(empty).IsNull());
    EXPECT_FALSE(empty.headers["ETag"].empty());

    ChildProcess& older = h_.start_producer({"--name", "older", "--loss_only", "--steps", "3000"});
    std::string older_id = AgentHarness::session_of(older);
    ASSERT_TRUE(h_.wait_status(older_id, "finished"));
    ChildProcess& newer = h_.start_producer({"--name", "a</script><script>alert(1)</script>", "--threads", "1",
                                             "--metrics", "2", "--steps", "2500", "--series", "train/loss:3,2.5,nan,inf,1"});
    std::string newer_id = AgentHarness::session_of(newer);
    ASSERT_TRUE(h_.wait_status(newer_id, "finished"));

    // ?run=: that run, and its loss series (train/loss and val/loss) at max_points 1000.
    HttpResponse page = h_.get("/?run=" + older_id);
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.headers["Cache-Control"], "no-store");
    EXPECT_TRUE(page.headers["ETag"].empty());
    EXPECT_EQ(page.headers["Content-Length"], std::to_string(page.body.size()));
    rapidjson::Document load = first_load_of(page);
    ASSERT_TRUE(load.IsObject()) << "no first load in the page";
    EXPECT_EQ(std::string(load["run_id"].GetString()), older_id);
    EXPECT_EQ(load["max_points"].GetInt(), 1000);
    EXPECT_TRUE(load["run"] == h_.run(older_id));
    ASSERT_EQ(series_names(load), (std::vector<std::string>{"train/loss", "val/loss"}));
    for (std::size_t i = 0; i < 2; ++i) EXPECT_TRUE(series_equals_rest(h_, load, i));
    EXPECT_TRUE(load["series"][0]["answer"]["downsampled"].GetBool());

    // No ?run=: the newest run (run_id null: the page follows the newest); its name stays text.
    HttpResponse newest_page = h_.get("/");
    EXPECT_EQ(newest_page.body.find("</script><script>alert(1)"), std::string::npos);
    rapidjson::Document newest = first_load_of(newest_page);
    ASSERT_TRUE(newest.IsObject());
    EXPECT_TRUE(newest["run_id"].IsNull());
    EXPECT_EQ(string_member(newest["run"], "name"), "a</script><script>alert(1)</script>");
    EXPECT_TRUE(newest["run"] == h_.run(newer_id));
    ASSERT_EQ(series_names(newest), (std::vector<std::string>{"train/loss"}));  // NaN and Inf as null
    EXPECT_TRUE(series_equals_rest(h_, newest, 0));

    // ?metrics= and ?max_points= as the page reads them (parseInt, clamped to 16..100000).
    rapidjson::Document chosen = first_load_of(h_.get("/?run=" + newer_id + "&metrics=t0%2Fm1,%20t0%2Fm0&max_points=50x"));
    ASSERT_TRUE(chosen.IsObject());
    EXPECT_EQ(chosen["max_points"].GetInt(), 50);
    ASSERT_EQ(series_names(chosen), (std::vector<std::string>{"t0/m0", "t0/m1"}));  // the run's order
    for (std::size_t i = 0; i < 2; ++i) EXPECT_TRUE(series_equals_rest(h_, chosen, i));
    EXPECT_EQ(first_load_of(h_.get("/?run=" + newer_id + "&max_points=3"))["max_points"].GetInt(), 16);
    // Too many points to carry: the run only; the page streams the series itself.
    rapidjson::Document big = first_load_of(h_.get("/?run=" + older_id + "&max_points=20000"));
    ASSERT_TRUE(big.IsObject());
    EXPECT_EQ(big["series"].Size(), 0u);

    // Nothing to carry: ?run= naming no run (the page asks, gets the 404, says so), a query
    // that is not percent-encoding: the page file.
    for (const std::string target : {"/?run=NO_SUCH_RUN", "/?run=%zz"}) {
        HttpResponse plain = h_.get(target);
        EXPECT_EQ(plain.status, 200) << target;
        EXPECT_TRUE(first_load_of(plain).IsNull()) << target;
        EXPECT_EQ(plain.body, empty.body) << target;
    }
    HttpResponse head = http_request(h_.port(), "HEAD", "/?run=" + older_id);
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
}

}  // namespace
}  // namespace trainscope::test
