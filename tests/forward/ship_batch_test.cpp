// write_batch: a batch is one transaction with its ledger row; a retried batch_seq is refused
// whole (nothing doubled, rollups included), the latest-value table follows each batch, values round-trip
// (NaN and infinities too), and one NOTIFY goes out per batch.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <cmath>
#include <limits>

#include <sys/select.h>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "forward/ship_batch.hpp"
#include "support/postgres_server.hpp"

namespace trainscope::test {
namespace {

using namespace agent;

std::int64_t count(PgConnection& pg, const std::string& sql) { return pg.exec(sql).int64(0, 0); }

ShipBatch make_batch(std::int64_t batch_seq, std::int64_t first_seq, int n) {
    ShipBatch b;
    b.agent_id = "0123456789abcdef0123456789abcdef";
    b.host = "host\twith tab";
    b.batch_seq = batch_seq;
    for (int i = 0; i < n; ++i)
        b.points.push_back(PgPointRow{1 + i % 2, first_seq + i, first_seq + i, 1'700'000'000'000'000 + i, 0.25 * i});
    PgRunRow run;
    run.session_id = "run-a";
    run.name = "a run";
    run.status = "running";
    run.pid = 42;
    run.started_ms = 1.5;
    run.last_ms = 2.5;
    run.shipped_seq = first_seq + n - 1;
    run.shared_row = true;
    run.config = R"({"lr": 0.1})";
    b.runs.push_back(run);
    b.events.push_back(PgEventRow{batch_seq, "run-a", 0, 3.0, "note", "line one\nline\\two"});
    b.events_rowid = batch_seq;
    b.notify_payload = notify_payload(b);
    return b;
}

class ShipBatchTest : public ::testing::Test {
protected:
    void SetUp() override {
        pg_ = std::make_unique<PgConnection>(postgres_.conninfo());
        ensure_pg_schema(*pg_);
        pg_->exec("INSERT INTO trainscope.agents (agent_id, host) VALUES ('0123456789abcdef0123456789abcdef', 'h')");
    }
    PostgresServer postgres_;
    std::unique_ptr<PgConnection> pg_;
};

TEST_F(ShipBatchTest, ARetriedBatchIsANoOp) {
    ShipBatch batch = make_batch(1, 1, 10);
    ASSERT_TRUE(write_batch(*pg_, batch));
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.points"), 10);

    // The same batch again (a retry after a COMMIT whose answer was lost): refused whole.
    EXPECT_FALSE(write_batch(*pg_, batch));
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.points"), 10);
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.ledger"), 1);
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.events"), 1);
    EXPECT_EQ(count(*pg_, "SELECT shipped_seq FROM trainscope.run_nodes"), 10);
    // The rollups are in the batch's transaction: counted once, at every level.
    EXPECT_EQ(count(*pg_, "SELECT sum(count) FROM trainscope.rollups WHERE level = 18"), 10);
    EXPECT_EQ(count(*pg_, "SELECT sum(count) FROM trainscope.rollups WHERE level = 6"), 10);
    // The connection is usable afterwards, and the next batch goes in.
    ASSERT_TRUE(write_batch(*pg_, make_batch(2, 11, 4)));
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.points"), 14);
    EXPECT_EQ(count(*pg_, "SELECT sum(points) FROM trainscope.ledger"), 14);
    EXPECT_EQ(count(*pg_, "SELECT shipped_seq FROM trainscope.run_nodes"), 14);
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.runs"), 1);
    EXPECT_EQ(count(*pg_, "SELECT sum(count) FROM trainscope.rollups WHERE level = 12"), 14);
    // Text with tabs, newlines and backslashes arrives as written.
    EXPECT_EQ(pg_->exec("SELECT text FROM trainscope.events WHERE local_id = 1").text(0, 0), "line one\nline\\two");
    EXPECT_EQ(pg_->exec("SELECT host FROM trainscope.events WHERE local_id = 1").text(0, 0), "host\twith tab");
}

TEST_F(ShipBatchTest, LatestValuesFollowEachBatchAndValuesRoundTrip) {
    ShipBatch batch = make_batch(1, 1, 6);
    batch.points[4].value = std::nan("");
    batch.points[5].value = -std::numeric_limits<double>::infinity();
    batch.points[3].value = 0.1 + 0.2;  // needs all 17 digits
    ASSERT_TRUE(write_batch(*pg_, batch));
    // Series 1 holds seqs 1, 3, 5; series 2 holds 2, 4, 6.
    EXPECT_EQ(count(*pg_, "SELECT seq FROM trainscope.latest WHERE series_id = 1"), 5);
    EXPECT_EQ(pg_->exec("SELECT value FROM trainscope.latest WHERE series_id = 1").text(0, 0), "NaN");
    EXPECT_EQ(pg_->exec("SELECT value FROM trainscope.latest WHERE series_id = 2").text(0, 0), "-Infinity");
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.points WHERE seq = 4 AND value = 0.1::float8 + 0.2::float8"), 1);

    ASSERT_TRUE(write_batch(*pg_, make_batch(2, 7, 2)));
    EXPECT_EQ(count(*pg_, "SELECT seq FROM trainscope.latest WHERE series_id = 1"), 7);
    EXPECT_EQ(count(*pg_, "SELECT seq FROM trainscope.latest WHERE series_id = 2"), 8);
    EXPECT_EQ(count(*pg_, "SELECT count(*) FROM trainscope.latest"), 2);
}

TEST_F(ShipBatchTest, EachBatchNotifiesOnceWithASmallPayload) {
    PgConnection listener(postgres_.conninfo());
    listener.exec(std::string("LISTEN ") + kPgNotifyChannel);
    ASSERT_TRUE(write_batch(*pg_, make_batch(1, 1, 5000)));
    ASSERT_TRUE(write_batch(*pg_, make_batch(2, 5001, 5000)));

    std::vector<std::string> payloads;
    for (int waited = 0; payloads.size() < 2 && waited < 50; ++waited) {
        int fd = PQsocket(listener.handle());
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        timeval tv{0, 100'000};
        ::select(fd + 1, &set, nullptr, nullptr, &tv);
        PQconsumeInput(listener.handle());
        while (PGnotify* n = PQnotifies(listener.handle())) {
            payloads.emplace_back(n->extra);
            PQfreemem(n);
        }
    }
    ASSERT_EQ(payloads.size(), 2u) << "one NOTIFY per batch, not per point";
    EXPECT_LT(payloads[0].size(), 8000u);
    EXPECT_NE(payloads[0].find("\"batch_seq\":1"), std::string::npos) << payloads[0];
    EXPECT_NE(payloads[1].find("\"batch_seq\":2"), std::string::npos) << payloads[1];
    EXPECT_NE(payloads[1].find("[\"run-a\",10000]"), std::string::npos) << payloads[1];
}

}  // namespace
}  // namespace trainscope::test
