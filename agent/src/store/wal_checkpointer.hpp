// Checkpoints the writer's WAL on a thread of its own, so the collector thread that commits
// points never copies WAL pages into the database file (nor waits for that file's fsync).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite.hpp"

namespace trainscope::agent {

/// Owns a connection of its own to the writer's file and a thread that runs PASSIVE
/// checkpoints on it. Replaces the writer connection's automatic checkpoint: the writer's WAL
/// hook (called after each commit, on the committing thread) only wakes the thread once the
/// WAL holds `pages` pages. Should the thread fall behind and the WAL reach 8x that, the
/// writer checkpoints itself, so the WAL stays bounded whatever happens.
/// A checkpoint never touches durability: a commit is durable once it is in the WAL.
class WalCheckpointer {
public:
    WalCheckpointer(const std::string& path, Db& writer, int pages = 1000);
    /// Stops and joins the thread and gives the writer its own automatic checkpoints back.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    /// Checkpoints run by the thread so far (thread-safe).
    std::int64_t checkpoints() const;

private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
    void loop();

    Db& writer_;
    Db own_;
    const int pages_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool stop_ = false;
    std::int64_t done_ = 0;
    std::thread thread_;
};

}  // namespace trainscope::agent
