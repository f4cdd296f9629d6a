// Proves: the agent attaches only the user's own segments. Files planted under its prefix —
// a valid segment owned by another user (nobody), a valid segment with mode 0644, a symlink
// to a valid segment, a directory, a FIFO — are each ignored with exactly one log line naming
// the file and the reason, never become runs, and a real trainer's run still arrives whole.
// And the SDK's own segments are mode 0600 whatever the trainer's umask (077 or 022).
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/segment_image.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using ForeignSegmentsTest = AgentProcessTest;

constexpr uid_t kNobody = 65534;

/// A valid, published segment whose run would be `session` if the agent attached it (its
/// producer pid 999999 is dead: the run would end "crashed" at once), with `mode` (and
/// `owner`, unless -1). Written
/// under another name and renamed into place: the agent sees new files at once (inotify),
/// and must see this one only as it is meant to be, not half written or not yet chmod-ed.
void plant_segment(const std::string& path, const char* session, mode_t mode = 0600,
                   uid_t owner = static_cast<uid_t>(-1)) {
    SegmentImage image;
    std::strcpy(image.header().id.session_id, session);
    std::string staging = path + ".staging";
    std::size_t slash = staging.rfind('/');
    staging.insert(slash + 1, "staging-");  // outside the namespace's prefix
    image.write_file(staging);
    ASSERT_EQ(::chmod(staging.c_str(), mode), 0);
    if (owner != static_cast<uid_t>(-1)) {
        ASSERT_EQ(::chown(staging.c_str(), owner, owner), 0);
    }
    ASSERT_EQ(::rename(staging.c_str(), path.c_str()), 0);
}

std::vector<std::string> run_ids(const AgentHarness& h) {
    std::vector<std::string> ids;
    rapidjson::Document runs = h.get_json("/api/runs");
    if (!runs.IsObject() || !runs.HasMember("runs")) return ids;
    for (const auto& run : runs["runs"].GetArray()) ids.push_back(run["session_id"].GetString());
    return ids;
}

TEST_F(ForeignSegmentsTest, PlantedFilesAreIgnoredOnceEachWhileARealRunArrives) {
    const std::string base = h_.name_space() + ".999999.";
    // name -> a piece of the reason its log line must give
    std::vector<std::pair<std::string, std::string>> planted;
    plant_segment(shm_path(base + "1"), "planted-0644", 0644);
    planted.emplace_back(base + "1", "mode 0644");
    TempDir elsewhere;
    plant_segment(elsewhere.path() + "/target", "planted-symlink");
    ASSERT_EQ(::symlink((elsewhere.path() + "/target").c_str(), shm_path(base + "2").c_str()), 0);
    planted.emplace_back(base + "2", "symbolic link");
    ASSERT_EQ(::mkdir(shm_path(base + "3").c_str(), 0700), 0);
    planted.emplace_back(base + "3", "directory");
    ASSERT_EQ(::mkfifo(shm_path(base + "4").c_str(), 0600), 0);
    planted.emplace_back(base + "4", "FIFO");
    if (::geteuid() == 0) {  // CI runs as root; another user's file needs chown
        plant_segment(shm_path(base + "5"), "planted-foreign", 0600, kNobody);
        planted.emplace_back(base + "5", "owned by uid 65534");
    }

    ChildProcess& trainer =
        h_.start_producer({"--threads", "1", "--metrics", "2", "--steps", "3000"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(AgentHarness::done_of(trainer));
    EXPECT_TRUE(h_.wait_status(id, "finished"));
    for (int m = 0; m < 2; ++m) EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, 0, m, 3000}));

    EXPECT_TRUE(wait_until([&] {
        for (const auto& p : planted)
            if (h_.agent_log_lines_naming(p.first).empty()) return false;
        return true;
    }));
    std::this_thread::sleep_for(300ms);  // many 50 ms scans later: still one line each
    for (const auto& [name, reason] : planted) {
        std::vector<std::string> lines = h_.agent_log_lines_naming(name);
        ASSERT_EQ(lines.size(), 1u) << name;
        EXPECT_NE(lines[0].find(reason), std::string::npos) << lines[0];
    }
    EXPECT_EQ(run_ids(h_), std::vector<std::string>{id}) << "a planted segment became a run";
    EXPECT_TRUE(h_.agent().running()) << "the agent died";
    EXPECT_EQ(h_.get("/healthz").status, 200);
}

TEST_F(ForeignSegmentsTest, PlantedFileReplacedByTheUsersOwnSegmentIsLookedAtAfresh) {
    const std::string name = h_.name_space() + ".999999.1";
    plant_segment(shm_path(name), "planted-0644", 0644);
    ASSERT_TRUE(wait_until([&] { return !h_.agent_log_lines_naming(name).empty(); }));
    // Replaced at once (within one scan) by the user's own segment: a new file, attached.
    ASSERT_EQ(::unlink(shm_path(name).c_str()), 0);
    plant_segment(shm_path(name), "own-after-all");
    EXPECT_TRUE(h_.wait_status("own-after-all", "crashed"));  // its pid 999999 is not alive
}

/// The mode of the one trainer segment of `pid` in namespace ns; -1 if there is none.
int segment_mode_of(const std::string& ns, pid_t pid) {
    for (const std::string& name : trainer_segments(ns))
        if (name.find("." + std::to_string(pid) + ".") != std::string::npos) {
            struct stat st;
            if (::lstat(shm_path(name).c_str(), &st) == 0) return st.st_mode & 07777;
        }
    return -1;
}

TEST_F(ForeignSegmentsTest, TrainerSegmentsAreMode0600UnderUmask077And022) {
    TempDir flags;
    for (mode_t mask : {mode_t{077}, mode_t{022}}) {
        std::string finish = flags.path() + "/finish-" + std::to_string(mask);
        mode_t old = ::umask(mask);
        ChildProcess& trainer = h_.start_producer(
            {"--threads", "1", "--metrics", "1", "--steps", "500", "--finish_when", finish});
        ::umask(old);
        std::string id = AgentHarness::session_of(trainer);  // printed once the segment exists
        EXPECT_EQ(segment_mode_of(h_.name_space(), trainer.pid()), 0600)
            << "umask 0" << std::oct << mask;
        std::ofstream(finish).put('\n');
        EXPECT_TRUE(h_.wait_status(id, "finished")) << "umask 0" << std::oct << mask;
        EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, 0, 0, 500}));
    }
}

}  // namespace
}  // namespace trainscope::test
