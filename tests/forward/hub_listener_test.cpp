// The hub's listener hears a notification that PostgreSQL sent while the listener was busy
// with a query. Such a notification comes in with that query's answer, so libpq has already
// read it off the socket: a listener that only looks after poll(2) says the socket is
// readable would leave it queued until the next batch, and after a run's last batch for
// ever. Made certain here: a lock holds the listener inside its run_nodes query while a
// run_updated is sent; when the lock goes, nothing else is sent, and the client must still
// get run_updated.
#include <gtest/gtest.h>

#include <string>

#include "forward/hub_process.hpp"
#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

TEST(HubListener, ANotificationThatArrivedDuringAQueryIsHandled) {
    PostgresServer postgres;
    NodeAgent node("node-a", postgres.conninfo());
    ASSERT_TRUE(node.start());
    HubProcess hub(postgres.conninfo());
    ASSERT_NE(hub.port, 0);
    const std::string run = "busy-" + std::to_string(::getpid());
    ChildProcess& trainer = node.start_trainer(run, 0, {"--name", "busy", "--threads", "1", "--metrics", "1", "--steps", "200"});
    ASSERT_TRUE(trainer.wait_stdout_prefix("done ", 30s));
    ASSERT_TRUE(wait_until([&] {
        rapidjson::Document r = parse_json(http_get(hub.port, "/api/runs/" + run).body);
        return r.IsObject() && string_member(r, "status") == "finished" && r["points"].GetInt64() == 200;
    }, 30s));
    WsClient ws(hub.port);
    ASSERT_TRUE(ws.receive_text(10s)) << "no hello";

    agent::PgConnection locker(postgres.conninfo()), sender(postgres.conninfo());
    locker.exec("BEGIN");
    locker.exec("LOCK TABLE trainscope.run_nodes IN ACCESS EXCLUSIVE MODE");
    // A batch's notification (any node): the listener reads run_nodes and waits on the lock.
    sender.exec("NOTIFY trainscope_points, '{\"agent_id\":\"\"}'");
    ASSERT_TRUE(wait_until([&] {
        return sender.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND query LIKE '%trainscope.run_nodes%'").int64(0, 0) > 0;
    }, 20s)) << "the listener never waited on run_nodes";
    // What a hub's PATCH sends, while the listener is inside that query.
    sender.exec("SELECT pg_notify('trainscope_runs', '{\"kind\":\"run_updated\",\"session_id\":\"" + run + "\"}')");
    locker.exec("ROLLBACK");

    EXPECT_TRUE(receive_until(ws, [&](const rapidjson::Document& m) {
        return string_member(m, "type") == "run_updated" && string_member(m, "session_id") == run;
    }, 15s)) << "the run_updated that came during the query was never handled\n" << hub.output();
}

}  // namespace
}  // namespace trainscope::test
