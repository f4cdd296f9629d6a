// A loaded plugin as the host keeps it: its library, instance, queue and thread. Shared by
// plugin_host.cpp (loading, routes, status) and plugin_workers.cpp (feeding it).
#pragma once

#include <Poco/SharedLibrary.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "plugins/host_services.hpp"
#include "plugins/plugin_batch.hpp"
#include "plugins/plugin_host.hpp"

namespace trainscope::agent {

struct PluginHost::Loaded {
    std::unique_ptr<Poco::SharedLibrary> library;
    const plugin::PluginDescriptor* descriptor = nullptr;
    std::unique_ptr<HostServices> services;
    plugin::Plugin* instance = nullptr;
    PluginStatus status;
    std::atomic<bool> enabled{true};
    bool loaded_after_start = false;  ///< then it only sees points from its load on
    std::mutex mutex;  ///< guards queue, queued_points, status counters
    std::condition_variable wake;
    std::deque<PluginWork> queue;
    std::size_t queued_points = 0;
    std::uint64_t skipped_since_log = 0;
    std::chrono::steady_clock::time_point last_skip_log{};
    std::thread thread;
};

}  // namespace trainscope::agent
