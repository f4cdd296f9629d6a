// loss_watch: the smallest useful plugin. Counts the points of every series named in the
// `metric` setting, publishes {"points": N, "last": value} per run, and a derived series
// loss_watch/count. Also answers GET /api/plugins/loss_watch/hello.
#include <map>
#include <string>

#include <trainscope/plugin.hpp>
#include <trainscope/plugin_json.hpp>

namespace {

using namespace trainscope::plugin;

class LossWatch : public Plugin {
public:
    LossWatch(Host& host, const Settings& settings) : host_(host), metric_(settings.at("metric")) {}

    void on_points(const std::vector<SeriesPoints>& batch) override {
        for (const SeriesPoints& s : batch) {
            if (s.metric != metric_ || s.count == 0) continue;
            Count& c = counts_[std::string(s.session_id)];
            c.points += static_cast<std::int64_t>(s.count);
            c.last = s.points[s.count - 1].value;
            c.step = s.points[s.count - 1].step;
            JsonObject o;
            o.integer("points", c.points).number("last", c.last);
            host_.publish_stats(s.session_id, o.str());
            host_.publish_point(s.session_id, "count", c.step, static_cast<double>(c.points));
        }
    }

    bool handle_http(const HttpRequest& request, HttpResponse& response) override {
        if (request.segments.size() != 4 || request.segments[3] != "hello") return false;
        response.set_status(200);
        response.set_header("Content-Type", "application/json");
        response.body() << "{\"hello\":\"from loss_watch\"}";
        return true;
    }

private:
    struct Count {
        std::int64_t points = 0, step = 0;
        double last = 0;
    };
    Host& host_;
    std::string metric_;
    std::map<std::string, Count> counts_;
};

const Setting kSettings[] = {{"metric", "string", "train/loss", "the series to count"}};

const PluginDescriptor kDescriptor = {
    kAbiVersion, sizeof(PluginDescriptor), "loss_watch", "counts the points of one series", "1.0",
    kSettings,   1,                        nullptr,
    [](Host& host, const Settings& s) -> Plugin* { return new LossWatch(host, s); },
    [](Plugin* p) { delete p; },
};

}  // namespace

TRAINSCOPE_PLUGIN(kDescriptor)
