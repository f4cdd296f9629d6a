// A PostgreSQL 15 server of the test's own: initdb in a fresh directory under /tmp, the
// postmaster as a direct child listening on a Unix socket only (no TCP port), trust auth.
// PostgreSQL refuses to run as root, so a root caller runs it as the `postgres` system user
// (setpriv, which execs: the child's pid is the postmaster's) in a directory that user owns.
// stop() and the destructor stop it by pid (SIGINT: fast shutdown) and remove everything.
#pragma once

#include <memory>
#include <string>

#include "support/process.hpp"

namespace trainscope::test {

class PostgresServer {
public:
    /// initdb and start; throws std::runtime_error (with the server's output) if either fails.
    PostgresServer();
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    /// libpq key=value string: the socket directory, database and user "postgres".
    std::string conninfo() const;
    /// Fast shutdown by pid; waits until the postmaster has exited.
    void stop();
    /// Starts the postmaster on the same data directory; waits until it accepts connections.
    void start();
    bool running() const { return server_ != nullptr; }
    pid_t pid() const { return server_ ? server_->pid() : -1; }

private:
    /// `binary args...` as the server's user, in the server's directory.
    std::unique_ptr<ChildProcess> spawn(const std::string& command) const;
    std::string dir_, data_, socket_dir_;
    bool as_postgres_user_ = false;
    std::unique_ptr<ChildProcess> server_;
};

}  // namespace trainscope::test
