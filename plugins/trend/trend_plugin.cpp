// trend: for every loss series (name containing "loss"), increasing / decreasing / stable
// over a recent window (see common/trend.hpp for the test), and alerts: NaN/Inf values
// (with the step where they first appeared), divergence (loss well above its recent
// minimum), and a stall (a running trainer that stopped sending points).
#include <cmath>
#include <map>
#include <string>

#include <trainscope/plugin.hpp>
#include <trainscope/plugin_json.hpp>

#include "plugin_support.hpp"
#include "settings.hpp"
#include "trend.hpp"

namespace trainscope::plugins {
namespace {

class TrendPlugin : public plugin::Plugin {
public:
    TrendPlugin(plugin::Host& host, const plugin::Settings& s)
        : host_(host),
          window_(static_cast<std::size_t>(setting_number(s, "window_points"))),
          divergence_ratio_(setting_number(s, "divergence_ratio")),
          divergence_patience_(static_cast<std::size_t>(setting_number(s, "divergence_patience"))),
          smoothing_(static_cast<std::size_t>(setting_number(s, "divergence_smoothing"))),
          stall_ms_(setting_number(s, "stall_s") * 1000.0) {
        params_.t_threshold = setting_number(s, "t_threshold");
        params_.min_relative_change = setting_number(s, "min_relative_change");
        params_.min_points = std::min<std::size_t>(20, window_);
        if (window_ < 3 || divergence_patience_ == 0 || smoothing_ == 0 || stall_ms_ <= 0)
            throw std::invalid_argument("window_points >= 3, divergence_patience and _smoothing >= 1, stall_s > 0");
    }

    void on_points(const std::vector<plugin::SeriesPoints>& batch) override {
        for (const plugin::SeriesPoints& s : batch) {
            if (s.metric.find("loss") == std::string_view::npos) continue;
            Run& run = runs_[std::string(s.session_id)];
            std::string key(s.metric);
            if (s.rank != 0) key += "@rank" + std::to_string(s.rank);
            Series& series = run.series.try_emplace(key, window_, divergence_ratio_, divergence_patience_, smoothing_).first->second;
            for (std::size_t i = 0; i < s.count; ++i) observe(s.session_id, key, series, s.points[i]);
            run.last_point_ms = std::max(run.last_point_ms, s.points[s.count - 1].t_ms);
            run.stalled = false;
            run.dirty = true;
        }
    }

    void on_tick(double now_ms) override {
        for (auto& [session, run] : runs_) {
            if (run.dirty) publish(session, run);
            if (!run.stalled && run.last_point_ms > 0 && now_ms - run.last_point_ms > stall_ms_ &&
                host_.run_status(session) == "running") {
                run.stalled = true;
                plugin::Alert a{"stall", "warning", "", run.last_step,
                                "no points for " + std::to_string(static_cast<long>((now_ms - run.last_point_ms) / 1000)) +
                                    " s from a running trainer"};
                host_.raise_alert(session, a);
            }
        }
    }

    void on_run_event(std::string_view kind, std::string_view session) override {
        finish_run(runs_, kind, session, [this](const std::string& id, auto& run) { publish(id, run); });
    }

private:
    struct Series {
        Series(std::size_t window, double ratio, std::size_t patience, std::size_t smoothing)
            : divergence(window * 5, ratio, patience, smoothing) {}
        std::deque<std::pair<std::int64_t, double>> window;
        DivergenceDetector divergence;
        bool saw_non_finite = false;
    };
    struct Run {
        std::map<std::string, Series> series;
        double last_point_ms = 0;
        std::int64_t last_step = 0;
        bool stalled = false;
        bool dirty = false;
    };

    void observe(std::string_view session, const std::string& key, Series& s, const plugin::Point& p) {
        Run& run = runs_[std::string(session)];
        run.last_step = std::max(run.last_step, p.step);
        if (!std::isfinite(p.value)) {
            if (!s.saw_non_finite) {
                s.saw_non_finite = true;
                host_.raise_alert(session, plugin::Alert{"nan", "critical", key, p.step,
                                                         key + " became " + (std::isnan(p.value) ? "NaN" : "infinite") +
                                                             " at step " + std::to_string(p.step)});
            }
            return;
        }
        s.window.emplace_back(p.step, p.value);
        if (s.window.size() > window_) s.window.pop_front();
        if (s.divergence.add(p.step, p.value)) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "%s is diverging: %.4g (smoothed) at step %lld, recent minimum %.4g",
                          key.c_str(), s.divergence.value_at_alert(), static_cast<long long>(p.step),
                          s.divergence.minimum_at_alert());
            host_.raise_alert(session, plugin::Alert{"divergence", "warning", key, p.step, msg});
        }
    }

    void publish(const std::string& session, Run& run) {
        run.dirty = false;
        plugin::JsonObject series;
        for (const auto& [key, s] : run.series) {
            TrendResult r = classify_trend(s.window, params_);
            plugin::JsonObject o;
            o.text("trend", trend_name(r.trend)).number("slope", r.slope).number("t", r.t_stat)
                .number("relative_change", r.relative_change).integer("n", static_cast<std::int64_t>(r.n))
                .boolean("diverged", s.divergence.diverged()).boolean("non_finite", s.saw_non_finite);
            series.raw(key, o.str());
        }
        plugin::JsonObject stats;
        stats.raw("series", series.str()).integer("window_points", static_cast<std::int64_t>(window_));
        host_.publish_stats(session, stats.str());
    }

    plugin::Host& host_;
    std::size_t window_;
    double divergence_ratio_;
    std::size_t divergence_patience_;
    std::size_t smoothing_;
    double stall_ms_;
    TrendParams params_;
    std::map<std::string, Run> runs_;
};

const plugin::Setting kSettings[] = {
    {"window_points", "int", "200", "points in the trend window"},
    {"t_threshold", "double", "4", "|slope / standard error| needed to call a trend"},
    {"min_relative_change", "double", "0.02", "fraction of the level the trend must move across the window"},
    {"divergence_ratio", "double", "0.5", "alert when loss exceeds its recent minimum by this fraction"},
    {"divergence_patience", "int", "5", "consecutive points above the threshold before alerting"},
    {"divergence_smoothing", "int", "20", "points averaged before comparing with the minimum"},
    {"stall_s", "double", "30", "alert when a running trainer sends nothing for this long"},
};

const plugin::PluginDescriptor kDescriptor = {
    plugin::kAbiVersion,
    sizeof(plugin::PluginDescriptor),
    "trend",
    "loss trend (increasing/decreasing/stable) and alerts for NaN, divergence and stalls",
    "1.0",
    kSettings,
    sizeof kSettings / sizeof kSettings[0],
    nullptr,
    create_plugin<TrendPlugin>,
    destroy_plugin,
};

}  // namespace
}  // namespace trainscope::plugins

TRAINSCOPE_PLUGIN(trainscope::plugins::kDescriptor)
