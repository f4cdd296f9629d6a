// One commit's points in the shape the plugin API reads, built once and shared by every
// plugin's queue; and the unit of work a plugin's thread takes from its queue.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <trainscope/plugin.hpp>

#include "store/types.hpp"

namespace trainscope::agent {

struct PluginBatch {
    std::vector<SeriesUpdate> updates;
    std::vector<std::vector<plugin::Point>> points;  ///< points[i] are updates[i]'s
    std::vector<plugin::SeriesPoints> series;        ///< views into points, what on_points gets
    std::size_t total = 0;
};

std::shared_ptr<const PluginBatch> make_plugin_batch(std::vector<SeriesUpdate> updates);

/// A batch of points, or (when batch is null) a run event.
struct PluginWork {
    std::shared_ptr<const PluginBatch> batch;
    std::string kind;
    std::string session;
};

}  // namespace trainscope::agent
