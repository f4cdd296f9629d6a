// Another user on the machine plants the namespace's files (issue 12): a lock file at the old
// /dev/shm/<ns>.agent path, the namespace directory, or the agent file inside it (owned by
// the other user, or a symlink), each one locked and holding a URL of their choosing. The
// agent still starts and serves from a place only this user can write; the trainer and
// `--print-url` name only the real agent, never the planted URL. "Another user" is nobody
// (uid 65534): the files are chowned to it, so these tests need root (CI runs as root).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"
#include "autostart/rest.hpp"
#include "support/http_client.hpp"

namespace trainscope::test {
namespace {

constexpr uid_t kNobody = 65534;
constexpr unsigned short kPlantedPort = 1;
const std::string kPlantedUrl = "http://127.0.0.1:1";
const std::vector<std::string> kTwoSeconds = {"--steps", "1000", "--rate", "500"};

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int count_lines_with(const std::string& text, const std::string& a, const std::string& b) {
    int n = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        n += line.find(a) != std::string::npos && line.find(b) != std::string::npos;
        start = end + 1;
    }
    return n;
}

/// A file written the way an agent writes its agent file ("<pid> <url>\n", 0600) and locked
/// by this process, as a squatter's process would hold it: to a trainer that trusted it, an
/// agent serving the planted URL.
class PlantedAgentFile {
public:
    /// Plants `path`; owned by `owner` (nobody: another user) with mode `mode`.
    PlantedAgentFile(const std::string& path, uid_t owner, mode_t mode = 0600) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        std::string text = std::to_string(::getpid()) + " " + kPlantedUrl + "\n";
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        ok_ = fd_ >= 0 &&
              ::pwrite(fd_, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
              ::fchown(fd_, owner, owner) == 0 && ::fchmod(fd_, mode) == 0 &&
              ::fcntl(fd_, F_SETLK, &lock) == 0;
    }
    ~PlantedAgentFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return ok_; }

private:
    int fd_ = -1;
    bool ok_ = false;
};

class ForeignFiles : public AutostartTest {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root to make files owned by another user (nobody)";
    }

    /// A directory made 0700 and given to nobody, as another user would pre-create it.
    static ::testing::AssertionResult foreign_dir(const std::string& path) {
        if (::mkdir(path.c_str(), 0700) != 0 || ::chown(path.c_str(), kNobody, kNobody) != 0)
            return ::testing::AssertionFailure() << "cannot make " << path << " owned by nobody";
        return ::testing::AssertionSuccess();
    }

    /// A trainer starts an agent that serves (not the planted URL), says once that it did not
    /// trust `refused`, and --print-url names the same agent. The agent's log names `refused`
    /// once. Returns the agent's port (0 on failure).
    unsigned short expect_real_agent_despite(const std::string& refused,
                                             const ChildProcess::Env& env = {}) {
        ChildProcess& trainer = start_trainer(kTwoSeconds, env);
        std::string session = session_of(trainer);
        auto pid = SdkSays::started_agent(trainer);
        auto port = SdkSays::dashboard_port(trainer);
        EXPECT_TRUE(pid) << "the trainer started no agent (it trusted the planted file?):"
                         << stderr_text(trainer);
        EXPECT_TRUE(port) << stderr_text(trainer);
        if (!pid || !port) return 0;
        EXPECT_NE(*port, kPlantedPort) << "the trainer printed the planted URL";
        EXPECT_EQ(agent_processes(ns()), std::vector<pid_t>{*pid});
        EXPECT_EQ(http_get(*port, "/healthz").status, 200);
        EXPECT_TRUE(finished_cleanly(trainer));
        EXPECT_TRUE(wait_run_stored(*port, session, "finished", 1000));

        for (const std::string& line : SdkSays::lines(trainer, "dashboard at"))
            EXPECT_EQ(line.find(kPlantedUrl + "/"), std::string::npos) << line;
        EXPECT_EQ(SdkSays::lines(trainer, "not trusting " + refused).size(), 1u)
            << stderr_text(trainer);
        EXPECT_EQ(count_lines_with(read_file(agent_log_path()), "not using " + refused, ns()), 1)
            << read_file(agent_log_path());

        PrintUrl said = print_url(env);
        EXPECT_EQ(said.exit_code, 0);
        EXPECT_EQ(said.out, std::vector<std::string>{own_agent_url(*port)});
        return *port;
    }
};

TEST_F(ForeignFiles, LockFilePlantedAtTheOldShmPathIsIgnored) {
    // Before issue 12 the agent file was /dev/shm/<ns>.agent, which anyone can create.
    PlantedAgentFile planted(shm_path(ns() + ".agent"), kNobody);
    ASSERT_TRUE(planted.ok());
    ChildProcess& trainer = start_trainer(kTwoSeconds);
    std::string session = session_of(trainer);
    auto pid = SdkSays::started_agent(trainer);
    auto port = SdkSays::dashboard_port(trainer);
    ASSERT_TRUE(port) << stderr_text(trainer);
    EXPECT_NE(*port, kPlantedPort) << "the trainer printed the URL another user planted";
    ASSERT_TRUE(pid) << "no agent started: the planted lock stopped it" << stderr_text(trainer);
    EXPECT_EQ(lock_holder(), *pid);
    EXPECT_EQ(http_get(*port, "/healthz").status, 200);
    ASSERT_TRUE(finished_cleanly(trainer));
    EXPECT_TRUE(wait_run_stored(*port, session, "finished", 1000));

    PrintUrl said = print_url();
    EXPECT_EQ(said.exit_code, 0);
    EXPECT_EQ(said.out, std::vector<std::string>{own_agent_url(*port)});
}

TEST_F(ForeignFiles, NamespaceDirOfAnotherUserIsRefusedAndTheAgentServesFromTheNextPlace) {
    const std::string dir = runtime_dir() + "/trainscope";
    ASSERT_TRUE(foreign_dir(dir));
    PlantedAgentFile planted(detail::agent_file_path(dir, ns()), kNobody);
    ASSERT_TRUE(planted.ok());
    expect_real_agent_despite(dir);
    // The agent's file is in the next place, /dev/shm/trainscope-<uid>/.
    EXPECT_TRUE(std::filesystem::exists(
        detail::agent_file_path("/dev/shm/trainscope-" + std::to_string(::geteuid()), ns())));
}

TEST_F(ForeignFiles, AgentFileOfAnotherUserIsRefused) {
    const std::string dir = runtime_dir() + "/trainscope";
    ASSERT_EQ(detail::check_private_dir(dir, true), "");
    PlantedAgentFile planted(agent_file(), kNobody);
    ASSERT_TRUE(planted.ok());
    expect_real_agent_despite(agent_file());
}

TEST_F(ForeignFiles, AgentFileOpenToOthersIsRefused) {
    const std::string dir = runtime_dir() + "/trainscope";
    ASSERT_EQ(detail::check_private_dir(dir, true), "");
    PlantedAgentFile planted(agent_file(), ::geteuid(), 0666);
    ASSERT_TRUE(planted.ok());
    expect_real_agent_despite(agent_file());
}

TEST_F(ForeignFiles, AgentFileThatIsASymlinkIsRefused) {
    // The link's target is even ours (0600): only refusing to follow the link protects us.
    const std::string dir = runtime_dir() + "/trainscope";
    ASSERT_EQ(detail::check_private_dir(dir, true), "");
    const std::string target = scratch_path("planted-url");
    PlantedAgentFile planted(target, ::geteuid());
    ASSERT_TRUE(planted.ok());
    ASSERT_EQ(::symlink(target.c_str(), agent_file().c_str()), 0);
    expect_real_agent_despite(agent_file());
}

TEST_F(ForeignFiles, ShmUserDirOfAnotherUserIsRefusedAndTheDataDirIsUsed) {
    // /dev/shm/trainscope-<uid> pre-created by nobody. /dev/shm is shared by every test and
    // the user's own agents, so trainer and agent run in a mount namespace of their own with
    // a fresh tmpfs on /dev/shm (unshare -m), and no $XDG_RUNTIME_DIR.
    const std::string uid = std::to_string(::geteuid());
    const std::string shm_dir = "/dev/shm/trainscope-" + uid;
    const std::string setup = "mount -t tmpfs -o mode=1777 tmpfs /dev/shm && mkdir -m 0700 " +
                              shm_dir + " && chown 65534:65534 " + shm_dir;
    {
        ChildProcess probe("/usr/bin/unshare", {"-m", "/bin/sh", "-c", setup});
        auto status = probe.wait_exit(10s);
        if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
            GTEST_SKIP() << "cannot mount a private /dev/shm here (unshare -m)";
    }
    const ChildProcess::Env no_runtime{{"XDG_RUNTIME_DIR", ""}};
    ChildProcess& trainer =
        start_with_trainer_env("/usr/bin/unshare",
                               {"-m", "/bin/sh", "-c", setup + " && exec \"$@\"", "sh",
                                TS_PRODUCER_BIN, "--steps", "1000", "--rate", "500"},
                               no_runtime);
    std::string session = session_of(trainer);
    auto pid = SdkSays::started_agent(trainer);
    auto port = SdkSays::dashboard_port(trainer);
    ASSERT_TRUE(pid && port) << stderr_text(trainer);
    EXPECT_EQ(SdkSays::lines(trainer, "not trusting " + shm_dir).size(), 1u)
        << stderr_text(trainer);
    EXPECT_EQ(http_get(*port, "/healthz").status, 200);
    ASSERT_TRUE(finished_cleanly(trainer));
    EXPECT_TRUE(wait_run_stored(*port, session, "finished", 1000));
    EXPECT_EQ(count_lines_with(read_file(agent_log_path()), "not using " + shm_dir, ns()), 1)
        << read_file(agent_log_path());

    // The agent's file is in the data dir's run/ (0700), which this side of the mount sees too.
    const std::string run_dir = data_dir() + "/run";
    EXPECT_EQ(detail::check_private_dir(run_dir, false), "");
    EXPECT_TRUE(std::filesystem::exists(detail::agent_file_path(run_dir, ns())));
    PrintUrl said = print_url(no_runtime);
    EXPECT_EQ(said.exit_code, 0);
    EXPECT_EQ(said.out, std::vector<std::string>{own_agent_url(*port)});
}

TEST_F(AutostartTest, PrintUrlSaysWhenNoAgentServesTheNamespace) {
    PrintUrl said = print_url();
    EXPECT_EQ(said.exit_code, 1);
    EXPECT_TRUE(said.out.empty());
    ASSERT_EQ(said.err.size(), 1u);
    EXPECT_NE(said.err[0].find("no agent serves namespace " + ns()), std::string::npos)
        << said.err[0];

    unsigned short port = start_own_agent();
    ASSERT_NE(port, 0);
    said = print_url();
    EXPECT_EQ(said.exit_code, 0);
    EXPECT_EQ(said.out, std::vector<std::string>{own_agent_url(port)});
    // Only the user can read it: the URL carries the agent's token.
    struct stat st {};
    ASSERT_EQ(::stat(agent_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat((runtime_dir() + "/trainscope").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
}

}  // namespace
}  // namespace trainscope::test
