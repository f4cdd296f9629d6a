#include "support/postgres_server.hpp"

#include <libpq-fe.h>

#include <filesystem>
#include <stdexcept>
#include <vector>

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/wait.hpp"

namespace trainscope::test {

namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

std::string output_of(ChildProcess& p) {
    std::string text;
    for (const std::string& l : p.stdout_lines()) text += l + "\n";
    for (const std::string& l : p.stderr_lines()) text += l + "\n";
    return text;
}

}  // namespace

PostgresServer::PostgresServer() {
    // Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
    std::vector<char> pattern{'/', 't', 'm', 'p', '/', 't', 's', 'p', 'g', '-', 'X', 'X', 'X', 'X', 'X', 'X', '\0'};
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed under /tmp");
    dir_ = pattern.data();
    data_ = dir_ + "/data";
    socket_dir_ = dir_ + "/socket";
    std::filesystem::create_directory(socket_dir_);
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        if (!pw) throw std::runtime_error("running as root and there is no 'postgres' user to run PostgreSQL as");
        as_postgres_user_ = true;
        for (const std::string& d : {dir_, socket_dir_})
            if (::chown(d.c_str(), pw->pw_uid, pw->pw_gid) != 0)
                throw std::runtime_error("cannot chown " + d + " to postgres");
    }
    auto initdb = spawn(std::string(kBin) + "/initdb -D " + data_ +
                        " -U postgres --auth=trust -E UTF8 --no-sync --no-instructions");
    std::optional<int> status = initdb->wait_exit(120s);
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
        throw std::runtime_error("initdb failed:\n" + output_of(*initdb));
    start();
}

PostgresServer::~PostgresServer() {
    try { stop(); } catch (...) {}
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::unique_ptr<ChildProcess> PostgresServer::spawn(const std::string& command) const {
    // `exec` keeps the pid: the pid we hold is the server's own.
    std::string script = "cd " + dir_ + " && exec " + command;
    if (as_postgres_user_)
        return std::make_unique<ChildProcess>(
            "/usr/bin/setpriv",
            std::vector<std::string>{"--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                                     "/bin/sh", "-c", script});
    return std::make_unique<ChildProcess>("/bin/sh", std::vector<std::string>{"-c", script});
}

std::string PostgresServer::conninfo() const {
    return "host=" + socket_dir_ + " dbname=postgres user=postgres connect_timeout=5";
}

void PostgresServer::start() {
    if (server_) return;
    server_ = spawn(std::string(kBin) + "/postgres -D " + data_ + " -k " + socket_dir_ +
                    " -c listen_addresses= -c max_connections=40 -c shared_buffers=64MB");
    std::string info = conninfo();
    bool ready = wait_until([&] { return PQping(info.c_str()) == PQPING_OK || !server_->running(); }, 60s, 50ms);
    if (!ready || !server_->running()) {
        std::string out = output_of(*server_);
        server_.reset();
        throw std::runtime_error("PostgreSQL did not start:\n" + out);
    }
}

void PostgresServer::stop() {
    if (!server_) return;
    server_->signal(SIGINT);  // fast shutdown: open transactions are rolled back
    if (!server_->wait_exit(60s)) server_->kill_now();
    server_.reset();
}

}  // namespace trainscope::test
