#include "store/wal_checkpointer.hpp"

namespace trainscope::agent {

WalCheckpointer::WalCheckpointer(const std::string& path, Db& writer, int pages)
    : writer_(writer), own_(path), pages_(pages) {
    // Replaces the writer's wal_autocheckpoint (which is itself a WAL hook).
    sqlite3_wal_hook(writer_.handle(), &WalCheckpointer::on_commit, this);
    thread_ = std::thread([this] { loop(); });
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_autocheckpoint(writer_.handle(), pages_);  // removes our hook
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

std::int64_t WalCheckpointer::checkpoints() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int wal_pages) {
    auto* me = static_cast<WalCheckpointer*>(self);
    if (wal_pages >= 8 * me->pages_) {
        // The thread is behind (or busy): bound the WAL here, as SQLite's own hook would.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (wal_pages >= me->pages_) {
        {
            std::lock_guard<std::mutex> lock(me->mutex_);
            me->requested_ = true;
        }
        me->wake_.notify_one();
    }
    return SQLITE_OK;  // a failed checkpoint is retried after the next commit
}

void WalCheckpointer::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return requested_ || stop_; });
        if (stop_) return;
        requested_ = false;
        lock.unlock();
        // PASSIVE: copies what no reader still needs, never waits for readers or the writer.
        sqlite3_wal_checkpoint_v2(own_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
        lock.lock();
        ++done_;
    }
}

}  // namespace trainscope::agent
