// Proves: any text a trainer gives (CJK, emoji, combining characters; a run name over the
// name limit) reaches REST, the WebSocket and the CSV export as the same valid UTF-8, cut
// only between characters; and invalid bytes written straight into a segment (a hostile or
// old trainer) come out as U+FFFD everywhere, never as invalid UTF-8.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include "agent/agent_harness.hpp"
#include "support/json.hpp"
#include "support/segment_image.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"
#include "ingest/utf8.hpp"

namespace trainscope::test {
namespace {

using TextInputTest = AgentProcessTest;
using agent::is_valid_utf8;

const std::string kCjk8 = "深度学习模型训练";  // 8 characters, 24 bytes
const std::string kRocket = "🚀/loss";
const std::string kCombining = "e\xCC\x81tape/acc";  // e + COMBINING ACUTE ACCENT
const std::string kCjkMetric = "损失/训练";

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

bool has_run_named(const rapidjson::Value& runs, const std::string& name) {
    for (const auto& r : runs.GetArray())
        if (string_member(r, "name") == name) return true;
    return false;
}

TEST_F(TextInputTest, UnicodeNamesArriveWholeThroughRestWebSocketAndCsv) {
    const std::string long_name = repeat(kCjk8, 5);  // 40 characters, 120 bytes: over 95
    // The name field holds 95 bytes: 31 whole characters (93 bytes), never half of one.
    const std::string stored_name = long_name.substr(0, 93);
    ChildProcess& trainer = h_.start_producer(
        {"--name", long_name, "--threads", "1", "--metrics", "1", "--steps", "3", "--series",
         kCjkMetric + ":1,2,3", "--series", kRocket + ":4,5", "--series", kCombining + ":6"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(AgentHarness::done_of(trainer));
    ASSERT_TRUE(h_.wait_status(id, "finished"));

    HttpResponse runs = h_.get("/api/runs");
    EXPECT_TRUE(is_valid_utf8(runs.body));
    rapidjson::Document doc = parse_json(runs.body);
    ASSERT_TRUE(doc.IsObject());
    EXPECT_TRUE(has_run_named(doc["runs"], stored_name)) << runs.body;
    rapidjson::Document run = h_.run(id);
    ASSERT_TRUE(run.IsObject());
    std::vector<std::string> metrics;
    for (const auto& m : run["metrics"].GetArray()) metrics.emplace_back(m.GetString());
    for (const std::string& m : {kCjkMetric, kRocket, kCombining}) {
        EXPECT_NE(std::find(metrics.begin(), metrics.end(), m), metrics.end()) << m;
        HttpResponse series = h_.get("/api/runs/" + id + "/metrics/" + url_encode(m));
        EXPECT_EQ(series.status, 200) << m;
        rapidjson::Document s = parse_json(series.body);
        ASSERT_TRUE(s.IsObject());
        EXPECT_EQ(string_member(s, "metric"), m);
    }

    WsClient ws(h_.port());
    auto hello = ws.receive_text();
    ASSERT_TRUE(hello);
    EXPECT_TRUE(is_valid_utf8(*hello));
    rapidjson::Document h = parse_json(*hello);
    ASSERT_TRUE(h.IsObject());
    EXPECT_EQ(string_member(h, "type"), "hello");
    EXPECT_TRUE(has_run_named(h["sessions"], stored_name));
    ws.send_text("{\"type\":\"subscribe\",\"session_id\":\"" + id + "\",\"since_seq\":0}");
    std::set<std::string> pushed;
    while (pushed.size() < 4) {
        auto m = ws.receive_text();
        ASSERT_TRUE(m) << "only " << pushed.size() << " series pushed";
        EXPECT_TRUE(is_valid_utf8(*m));
        rapidjson::Document u = parse_json(*m);
        if (string_member(u, "type") == "training_update") pushed.insert(string_member(u, "metric"));
    }
    for (const std::string& m : {kCjkMetric, kRocket, kCombining}) EXPECT_EQ(pushed.count(m), 1u) << m;

    HttpResponse csv = h_.get("/api/runs/" + id + "/export.csv");
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_TRUE(is_valid_utf8(csv.body));
    for (const std::string& m : {kCjkMetric, kRocket, kCombining})
        EXPECT_NE(csv.body.find("," + m + ","), std::string::npos) << m;
}

/// A segment written byte by byte, as a hostile or old trainer might: invalid UTF-8 in the
/// run name, a metric name, an event and the config; one point; its producer is gone.
void write_hostile_segment(const std::string& name) {
    SegmentImage image(64, 1);
    layout::Header& h = image.header();
    std::strcpy(h.id.run_name, "bad\xE4\xB8\xFF");  // a character cut short, then a byte never valid
    std::strcpy(h.metric_names[0], "m\xC3(");        // a lead byte without its continuation
    h.metric_count.store(1);
    layout::Slot* slots = layout::lane_slots(&h, 0, 64);
    slots[0].metric_id = 0;
    slots[0].step = 7;
    slots[0].value = 1.5;
    slots[0].unix_ns = 1'700'000'000'000'000'000;
    slots[0].publish.store(1);
    h.lanes[0].write_pos.store(1);
    layout::EventSlot& e = h.events[0];
    std::strcpy(e.kind, "note");
    std::strcpy(e.text, "x\xFF\xFEy");
    e.unix_ns = 1'700'000'000'000'000'000;
    e.publish.store(1);
    h.event_write.store(1);
    const char config[] = "{\"lr\":\"\xC0\xAF\"}";  // an overlong '/'
    std::memcpy(h.config.bytes, config, sizeof config - 1);
    h.config.length = sizeof config - 1;
    h.config.generation.store(2);
    image.write_shm(name);
}

TEST_F(TextInputTest, InvalidBytesInASegmentBecomeReplacementCharacters) {
    const std::string fffd = "\xEF\xBF\xBD";
    write_hostile_segment(h_.name_space() + ".999999.0");
    ASSERT_TRUE(h_.wait_points("image-run", 1));
    ASSERT_TRUE(h_.wait_status("image-run", "crashed"));

    HttpResponse runs = h_.get("/api/runs");
    EXPECT_TRUE(is_valid_utf8(runs.body));
    rapidjson::Document run = h_.run("image-run");
    ASSERT_TRUE(run.IsObject());
    EXPECT_EQ(string_member(run, "name"), "bad" + fffd + fffd);
    ASSERT_EQ(run["metrics"].Size(), 1u);
    EXPECT_EQ(std::string(run["metrics"][0].GetString()), "m" + fffd + "(");
    ASSERT_TRUE(run["config"].IsObject()) << "config: " << h_.get("/api/runs/image-run").body;
    EXPECT_EQ(string_member(run["config"], "lr"), fffd);

    HttpResponse events = h_.get("/api/runs/image-run/events");
    EXPECT_TRUE(is_valid_utf8(events.body));
    EXPECT_NE(events.body.find("\"x" + fffd + fffd + "y\""), std::string::npos) << events.body;

    WsClient ws(h_.port());
    auto hello = ws.receive_text();
    ASSERT_TRUE(hello);
    EXPECT_TRUE(is_valid_utf8(*hello));
    HttpResponse csv = h_.get("/api/runs/image-run/export.csv");
    EXPECT_TRUE(is_valid_utf8(csv.body));
    EXPECT_NE(csv.body.find("m" + fffd + "("), std::string::npos) << csv.body;
}

}  // namespace
}  // namespace trainscope::test
