#include "ingest/storage_outage.hpp"

#include <algorithm>

namespace trainscope::agent {

bool StorageOutage::failed(const std::string& error, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    bool starts = ok_;
    if (starts) since_ = now;
    ok_ = false;
    error_ = error;
    backoff_ = starts ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    retry_at_ = now + backoff_;
    return starts;
}

bool StorageOutage::succeeded() {
    std::lock_guard<std::mutex> lock(mutex_);
    bool ends = !ok_;
    ok_ = true;
    error_.clear();
    backoff_ = std::chrono::milliseconds(0);
    return ends;
}

bool StorageOutage::may_try(Clock::time_point now) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return ok_ || now >= retry_at_;
}

void StorageOutage::set_waiting(std::uint64_t points) {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting_ = points;
}

StorageOutage::Snapshot StorageOutage::snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    Snapshot s;
    s.ok = ok_;
    s.error = error_;
    s.waiting_points = waiting_;
    if (!ok_) s.outage_seconds = std::chrono::duration<double>(Clock::now() - since_).count();
    return s;
}

}  // namespace trainscope::agent
