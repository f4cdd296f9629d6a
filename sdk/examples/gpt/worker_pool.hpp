// A fixed set of threads that run one job at a time, all of them on it together.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gpt {

/// run(fn) calls fn(worker) once on each of size() workers and returns when all are done.
/// Worker 0 is the calling thread, so a pool of 1 starts no thread at all. Threads persist
/// between jobs: a training step is a few milliseconds, too short to pay for thread start-up.
/// Not thread-safe: one thread drives the pool.
class WorkerPool {
public:
    /// n_threads <= 0 means std::thread::hardware_concurrency().
    explicit WorkerPool(int n_threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    int size() const { return static_cast<int>(threads_.size()) + 1; }

    /// Runs fn on every worker; rethrows the first exception any of them threw.
    void run(const std::function<void(int)>& fn);

private:
    void loop(int worker);

    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable start_cv_;
    std::condition_variable done_cv_;
    const std::function<void(int)>* job_ = nullptr;
    std::uint64_t generation_ = 0;  // bumped per job so sleepers know a new one arrived
    int pending_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace gpt
