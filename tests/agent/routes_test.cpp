// Proves: every request goes through the route table: its patterns ({name} captures one
// segment, "**" the rest), GET routes answering HEAD, 405 for a method no route takes or a
// path served by other methods only, 404 for no match; and the dashboard's files are streamed
// with an ETag and Cache-Control, so a reload revalidates (304, no body) instead of fetching
// Chart.js again.
#include "agent/agent_harness.hpp"
#include "serve/route_table.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

using trainscope::agent::RouteTable;

std::vector<std::string> parts(std::initializer_list<const char*> p) { return {p.begin(), p.end()}; }

TEST(RouteTableTest, PatternsMatchLiteralsCapturesAndTheRest) {
    std::map<std::string, std::string> captures;
    EXPECT_TRUE(RouteTable::matches(parts({"api", "runs", "{id}"}), parts({"api", "runs", "R1"}), &captures));
    EXPECT_EQ(captures["{id}"], "R1");
    EXPECT_FALSE(RouteTable::matches(parts({"api", "runs", "{id}"}), parts({"api", "runs"}), nullptr));
    EXPECT_FALSE(RouteTable::matches(parts({"api", "runs", "{id}"}), parts({"api", "runs", "R1", "x"}), nullptr));
    EXPECT_FALSE(RouteTable::matches(parts({"api", "runs"}), parts({"api", "plugins"}), nullptr));
    // "**": any number of segments, zero included, joined by '/'.
    captures.clear();
    EXPECT_TRUE(RouteTable::matches(parts({"static", "**"}), parts({"static", "js", "main.js"}), &captures));
    EXPECT_EQ(captures["**"], "js/main.js");
    EXPECT_TRUE(RouteTable::matches(parts({"static", "**"}), parts({"static"}), nullptr));
    EXPECT_FALSE(RouteTable::matches(parts({"static", "**"}), parts({"vendor", "a"}), nullptr));
    // The root: no segments.
    EXPECT_TRUE(RouteTable::matches({}, {}, nullptr));
    EXPECT_FALSE(RouteTable::matches({}, parts({"x"}), nullptr));
}

class RoutesTest : public AgentProcessTest {};

TEST_F(RoutesTest, MethodsAndMissingPathsGetTheirStatus) {
    unsigned short port = h_.port();
    // A path the table serves, with a method no route takes: 405, as JSON.
    EXPECT_TRUE(is_json_error_response(http_request(port, "POST", "/api/runs"), 405, 405));
    EXPECT_TRUE(is_json_error_response(http_request(port, "PUT", "/no/such/path"), 405, 405));
    // GET of nothing in the table: 404.
    EXPECT_TRUE(is_json_error_response(http_get(port, "/api/runs/R/nothing"), 404, 404));
    EXPECT_TRUE(is_json_error_response(http_get(port, "/vendor/a/b"), 404, 404));
    // HEAD answers like GET, without a body.
    HttpResponse head = http_request(port, "HEAD", "/api/runs");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
}

TEST_F(RoutesTest, StaticFilesRevalidateWithTheirETag) {
    unsigned short port = h_.port();
    for (const std::string& target : {std::string("/vendor/chart.umd.js"), std::string("/static/js/main.js"),
                                      std::string("/")}) {
        HttpResponse first = http_get(port, target);
        ASSERT_EQ(first.status, 200) << target << ": " << first.error;
        ASSERT_FALSE(first.body.empty()) << target;
        std::string tag = first.headers["ETag"];
        ASSERT_FALSE(tag.empty()) << target << " has no ETag";
        EXPECT_FALSE(first.headers["Cache-Control"].empty()) << target;
        EXPECT_EQ(first.headers["Content-Length"], std::to_string(first.body.size())) << target;

        // A reload: the browser sends the tag back and gets no body.
        Headers revalidate = bearer_header();
        revalidate["If-None-Match"] = tag;
        HttpResponse again = http_request_with(port, "GET", target, revalidate);
        EXPECT_EQ(again.status, 304) << target;
        EXPECT_TRUE(again.body.empty()) << target;

        // Another tag (the file changed since): the whole file again.
        revalidate["If-None-Match"] = "\"stale\"";
        HttpResponse changed = http_request_with(port, "GET", target, revalidate);
        EXPECT_EQ(changed.status, 200) << target;
        EXPECT_EQ(changed.body, first.body) << target;

        HttpResponse head = http_request(port, "HEAD", target);
        EXPECT_EQ(head.status, 200) << target;
        EXPECT_TRUE(head.body.empty()) << target;
        EXPECT_EQ(head.headers["ETag"], tag) << target;
    }
    // The vendor files may be kept a while; the page's own files are asked for every time.
    EXPECT_NE(http_get(port, "/vendor/chart.umd.js").headers["Cache-Control"].find("max-age"), std::string::npos);
    EXPECT_EQ(http_get(port, "/static/js/main.js").headers["Cache-Control"], "no-cache");
}

}  // namespace
}  // namespace trainscope::test
