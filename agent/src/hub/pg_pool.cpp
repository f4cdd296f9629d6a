#include "hub/pg_pool.hpp"

#include <poll.h>

#include "forward/pg_connection.hpp"

namespace trainscope::agent {

namespace {

/// Whether an idle connection still works, as far as can be told without a round trip. A
/// pooled connection listens to nothing, so while idle the server has nothing to say to it;
/// anything waiting on its socket is a goodbye (a restart's "terminating connection", then
/// EOF), and the connection is not handed out again.
bool still_usable(PgConnection& c) {
    pollfd p{PQsocket(c.handle()), POLLIN, 0};
    if (p.fd < 0 || !c.ok()) return false;
    return ::poll(&p, 1, 0) == 0;
}

}  // namespace

PgPool::PgPool(std::string conninfo, PgPoolOptions options)
    : conninfo_(std::move(conninfo)), options_(options) {
    if (options_.max_connections == 0) options_.max_connections = 1;
}

PgPool::~PgPool() = default;

PgPool::Lease::Lease(PgPool& pool, std::unique_ptr<PgConnection> c) : pool_(&pool), c_(std::move(c)) {}
PgPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), c_(std::move(other.c_)) {}
PgPool::Lease::~Lease() {
    if (c_) pool_->give_back(std::move(c_));
}

PgPool::Lease PgPool::lease() {
    std::unique_lock<std::mutex> lock(mutex_);
    bool ready = returned_.wait_for(lock, options_.wait,
                                    [this] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!ready) {
        ++exhausted_;
        throw PgError("all " + std::to_string(options_.max_connections) +
                      " PostgreSQL connections of the hub are busy (waited " + std::to_string(options_.wait.count()) +
                      " ms); try again, or start the hub with a larger --hub-connections");
    }
    while (!idle_.empty()) {
        std::unique_ptr<PgConnection> c = std::move(idle_.back());
        idle_.pop_back();
        if (still_usable(*c)) {
            ++leased_;
            return Lease(*this, std::move(c));
        }
        --open_;  // gone (PostgreSQL restarted, say): its slot opens a new one below
    }
    // Connect outside the lock (it takes a round trip), holding the slot meanwhile.
    ++open_;
    ++leased_;
    lock.unlock();
    try {
        return Lease(*this, std::make_unique<PgConnection>(conninfo_));
    } catch (...) {
        lock.lock();
        --open_;
        --leased_;
        returned_.notify_one();
        throw;
    }
}

void PgPool::give_back(std::unique_ptr<PgConnection> c) {
    bool usable = c->ok() && PQtransactionStatus(c->handle()) == PQTRANS_IDLE;
    if (!usable) c.reset();  // closed outside the lock below; a fresh one replaces it when needed
    std::lock_guard<std::mutex> lock(mutex_);
    --leased_;
    if (usable) idle_.push_back(std::move(c));
    else --open_;
    returned_.notify_one();
}

PgPool::Stats PgPool::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return Stats{open_, leased_, exhausted_, options_.max_connections};
}

}  // namespace trainscope::agent
