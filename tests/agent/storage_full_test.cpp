// A full disk under the agent: its data dir is a small tmpfs, filled with a filler file while
// a trainer keeps logging and sets its config, model info and an event. Nothing may be lost:
// the points wait in the trainer's ring, /healthz and /metrics say storage is failing and how
// many points wait, the agent retries (logging once per outage), and once the filler is gone
// everything is stored exactly once, by itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "agent/agent_harness.hpp"
#include "agent/tmpfs_mount.hpp"
#include "support/json.hpp"
#include "support/sqlite_reader.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

constexpr long kBefore = 1000;   // points stored before the disk fills
constexpr long kDuring = 20000;  // points logged while it is full (fit one lane's ring)
constexpr long kLate = 1000;     // points of a metric first logged while it is full

struct Storage {
    bool ok = false;
    std::string error;
    std::int64_t waiting_points = -1;
};

class StorageFullTest : public ::testing::Test {
protected:
    void SetUp() override {
        data_dir_ = std::filesystem::path(h_.db_path()).parent_path().string();
        mount_ = std::make_unique<TmpfsMount>(data_dir_, 16u << 20);
        if (!mount_->mounted())
            GTEST_SKIP() << "cannot mount a tmpfs on " << data_dir_ << " (" << mount_->error()
                         << "): this test needs root (CAP_SYS_ADMIN) to make a disk that fills up";
        ASSERT_TRUE(h_.start_agent());
    }

    Storage storage() const {
        rapidjson::Document doc = h_.get_json("/healthz");
        Storage s;
        if (!doc.IsObject() || !doc.HasMember("storage") || !doc["storage"].IsObject()) return s;
        const rapidjson::Value& v = doc["storage"];
        s.ok = v.HasMember("ok") && v["ok"].IsBool() && v["ok"].GetBool();
        s.error = string_member(v, "error");
        if (v.HasMember("waiting_points") && v["waiting_points"].IsInt64())
            s.waiting_points = v["waiting_points"].GetInt64();
        return s;
    }

    /// The value of an unlabelled /metrics line "NAME VALUE"; -1 if missing.
    double metric(const std::string& name) const {
        HttpResponse r = h_.get("/metrics");
        std::smatch m;
        std::regex line("(^|\n)" + name + " ([0-9.e+-]+)\n");
        return std::regex_search(r.body, m, line) ? std::stod(m[2]) : -1;
    }

    void touch(const std::string& name) const { std::ofstream(control_.path() + "/" + name) << "go"; }

    /// Trainer logs kBefore points (stored), the disk fills, the trainer sets its config,
    /// model info and an event and logs kDuring + kLate points; returns once the agent reports the
    /// outage with those points waiting and has retried a few times. Then frees the disk.
    void run_through_outage() {
        trainer_ = std::make_unique<ChildProcess>(
            TS_OUTAGE_TRAINER_BIN,
            std::vector<std::string>{"--dir", control_.path(), "--before", std::to_string(kBefore),
                                     "--during", std::to_string(kDuring)},
            ChildProcess::Env{{"TRAINSCOPE_NAMESPACE", h_.name_space()},
                              {"TRAINSCOPE_AUTOSTART", "0"}});
        session_ = AgentHarness::session_of(*trainer_);
        ASSERT_TRUE(trainer_->wait_stdout_prefix("before ", 10s));
        ASSERT_TRUE(h_.wait_points(session_, kBefore));
        Storage before = storage();
        EXPECT_TRUE(before.ok) << "storage is not ok before the disk filled: " << before.error;

        std::string why;
        ASSERT_GE(fill_disk(data_dir_ + "/filler", &why), 0) << why;
        touch("outage");
        ASSERT_TRUE(trainer_->wait_stdout_prefix("during ", 10s));
        // Commits fail and are retried (with backoff), and nothing new is stored meanwhile.
        ASSERT_TRUE(wait_until([&] { return metric("trainscope_store_errors_total") >= 3; }, 20s))
            << "commits did not fail on the full disk";
        SqliteReader db(h_.db_path());
        EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM points"), kBefore);
        // Said where a user looks: /healthz and /metrics, with the points waiting in the ring.
        Storage during;
        EXPECT_TRUE(wait_until([&] {
            during = storage();
            return !during.ok && during.waiting_points >= kDuring + kLate;
        }, 10s)) << "healthz never showed the outage with " << kDuring + kLate
                 << " points waiting; last: ok=" << during.ok << " waiting=" << during.waiting_points;
        EXPECT_NE(during.error.find("full"), std::string::npos) << during.error;
        EXPECT_EQ(metric("trainscope_storage_ok"), 0);
        EXPECT_GE(metric("trainscope_storage_waiting_points"), kDuring + kLate);

        std::filesystem::remove(data_dir_ + "/filler");
        ASSERT_TRUE(h_.wait_points(session_, kBefore + kDuring + kLate, 20s))
            << "the agent did not store the waiting points by itself once space returned";
        Storage after;
        EXPECT_TRUE(wait_until([&] { return (after = storage()).ok; }, 10s))
            << "healthz still shows the outage: " << after.error;
        EXPECT_EQ(metric("trainscope_storage_ok"), 1);
    }

    void finish_trainer() {
        touch("finish");
        EXPECT_EQ(AgentHarness::done_of(*trainer_), 0u) << "the trainer dropped records";
        EXPECT_TRUE(h_.wait_status(session_, "finished"));
    }

    AgentHarness h_;
    TempDir control_{"tstest-outage"};
    std::string data_dir_;
    std::unique_ptr<TmpfsMount> mount_;  // after h_: unmounted first (lazily, agent still up)
    std::unique_ptr<ChildProcess> trainer_;  // last: stopped before the agent
    std::string session_;
};

TEST_F(StorageFullTest, PointsWaitInTheRingAndAreStoredExactlyOnceWhenSpaceReturns) {
    ASSERT_NO_FATAL_FAILURE(run_through_outage());
    finish_trainer();

    SqliteReader db(h_.db_path());
    auto figures = [&](const char* metric) {
        return db.row("SELECT COUNT(*), COUNT(DISTINCT p.step), MIN(p.step), MAX(p.step) FROM "
                      "points p JOIN series s ON s.id = p.series_id WHERE s.session_id = ? AND "
                      "s.name = ?", {session_, metric});
    };
    EXPECT_EQ(figures("m"), (std::vector<std::int64_t>{kBefore + kDuring, kBefore + kDuring, 0,
                                                       kBefore + kDuring - 1}));
    // Its series could not even be created while the disk was full.
    EXPECT_EQ(figures("late"), (std::vector<std::int64_t>{kLate, kLate, 0, kLate - 1}));
    EXPECT_EQ(metric("trainscope_storage_waiting_points"), 0);
    // One line when the outage starts and one when it ends, however many retries between.
    EXPECT_EQ(h_.agent_log_lines_naming("storage: cannot write").size(), 1u);
    EXPECT_EQ(h_.agent_log_lines_naming("storage: writing again").size(), 1u);
}

TEST_F(StorageFullTest, ConfigModelInfoAndEventsSetDuringAnOutageAreStored) {
    ASSERT_NO_FATAL_FAILURE(run_through_outage());

    rapidjson::Document run = h_.run(session_);
    ASSERT_TRUE(run.IsObject());
    bool has_config = run.HasMember("config") && run["config"].IsObject();
    EXPECT_TRUE(has_config && string_member(run["config"], "set_during") == "outage")
        << "the config set during the outage was not stored";
    EXPECT_EQ(h_.get("/api/model-info?session=" + session_).status, 200)
        << "the model info set during the outage was not stored";
    HttpResponse events = h_.get("/api/runs/" + session_ + "/events");
    EXPECT_NE(events.body.find("saved during the outage"), std::string::npos)
        << "the event sent during the outage was not stored: " << events.body;
    finish_trainer();
}

}  // namespace
}  // namespace trainscope::test
