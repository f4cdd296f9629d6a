#include "plugins/plugin_batch.hpp"

namespace trainscope::agent {

std::shared_ptr<const PluginBatch> make_plugin_batch(std::vector<SeriesUpdate> updates) {
    auto batch = std::make_shared<PluginBatch>();
    batch->updates = std::move(updates);
    batch->points.reserve(batch->updates.size());
    for (const SeriesUpdate& u : batch->updates) {
        std::vector<plugin::Point> pts;
        pts.reserve(u.points.size());
        for (const StoredPoint& p : u.points) pts.push_back(plugin::Point{p.step, p.t_ms, p.value, p.seq});
        batch->total += pts.size();
        batch->points.push_back(std::move(pts));
    }
    // Views are taken only now: points no longer moves.
    for (std::size_t i = 0; i < batch->updates.size(); ++i) {
        const SeriesUpdate& u = batch->updates[i];
        batch->series.push_back(plugin::SeriesPoints{u.session_id, u.rank, u.metric,
                                                     batch->points[i].data(), batch->points[i].size()});
    }
    return batch;
}

}  // namespace trainscope::agent
