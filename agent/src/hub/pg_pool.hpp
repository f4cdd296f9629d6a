// The hub's PostgreSQL connections for requests and WebSocket clients: a small bounded pool.
// A reader leases a connection for one call (a run list, a series, a replay) and gives it
// back, so 200 WebSocket clients share a handful of connections instead of holding 200.
// When every connection is busy a lease waits a moment, then fails with an error that says
// so (a request gets 503 naming it); it never opens more than its bound.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace trainscope::agent {

class PgConnection;

struct PgPoolOptions {
    std::size_t max_connections = 8;
    std::chrono::milliseconds wait{2000};  ///< how long a lease waits for a busy pool
};

class PgPool {
public:
    PgPool(std::string conninfo, PgPoolOptions options = {});
    ~PgPool();
    PgPool(const PgPool&) = delete;
    PgPool& operator=(const PgPool&) = delete;

    /// One connection, the caller's until the lease ends. A connection that failed while
    /// leased is closed on return rather than handed out again.
    class Lease {
    public:
        Lease(PgPool& pool, std::unique_ptr<PgConnection> c);
        ~Lease();
        Lease(Lease&&) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        PgConnection& operator*() const { return *c_; }
        PgConnection* operator->() const { return c_.get(); }

    private:
        PgPool* pool_;
        std::unique_ptr<PgConnection> c_;
    };

    /// An idle connection, a new one while under the bound, or one given back within
    /// options.wait; else throws PgError ("all N ... are busy"). Connecting may throw PgError.
    Lease lease();

    struct Stats {
        std::size_t open = 0;     ///< connections open now (idle and leased)
        std::size_t leased = 0;
        std::uint64_t exhausted = 0;  ///< leases refused because every connection was busy
        std::size_t max = 0;
    };
    Stats stats() const;

private:
    void give_back(std::unique_ptr<PgConnection> c);

    std::string conninfo_;
    PgPoolOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<PgConnection>> idle_;
    std::size_t open_ = 0;
    std::size_t leased_ = 0;
    std::uint64_t exhausted_ = 0;
};

}  // namespace trainscope::agent
