// statistics: the training summary panel. Current loss, mean loss over the whole run and
// over a recent window, best validation loss and its step, training rate, elapsed time and
// estimated completion time (Unix ms), published once a second per active run.
#include <map>
#include <string>

#include <trainscope/plugin.hpp>
#include <trainscope/plugin_json.hpp>

#include "loss_stats.hpp"
#include "rolling_rate.hpp"
#include "run_config.hpp"
#include "plugin_support.hpp"
#include "settings.hpp"

namespace trainscope::plugins {
namespace {

class StatisticsPlugin : public plugin::Plugin {
public:
    StatisticsPlugin(plugin::Host& host, const plugin::Settings& settings)
        : host_(host),
          window_(static_cast<std::size_t>(setting_number(settings, "window_points"))),
          rate_window_s_(setting_number(settings, "rate_window_s")),
          loss_metric_(setting_text(settings, "loss_metric")),
          val_metric_(setting_text(settings, "val_metric")) {
        if (window_ == 0 || rate_window_s_ <= 0) throw std::invalid_argument("windows must be positive");
    }

    void on_points(const std::vector<plugin::SeriesPoints>& batch) override {
        for (const plugin::SeriesPoints& s : batch) {
            bool is_loss = s.metric == loss_metric_, is_val = s.metric == val_metric_;
            if (!is_loss && !is_val) continue;
            Run& run = runs_.try_emplace(std::string(s.session_id), window_, rate_window_s_).first->second;
            if (s.rank != 0) continue;  // rank 0 speaks for the run
            for (std::size_t i = 0; i < s.count; ++i) {
                const plugin::Point& p = s.points[i];
                if (run.first_t_ms == 0) run.first_t_ms = p.t_ms;
                run.last_t_ms = std::max(run.last_t_ms, p.t_ms);
                if (is_loss) {
                    run.loss.add(p.step, p.value);
                    run.rate.add(p.step, p.t_ms);
                } else {
                    run.val.add(p.step, p.value);
                }
            }
            run.dirty = true;
        }
    }

    void on_tick(double) override {
        for (auto& [session, run] : runs_)
            if (run.dirty) publish(session, run);
    }

    void on_run_event(std::string_view kind, std::string_view session) override {
        finish_run(runs_, kind, session, [this](const std::string& id, auto& run) { publish(id, run); });
    }

private:
    struct Run {
        Run(std::size_t window, double rate_window) : loss(window), val(window), rate(rate_window) {}
        SeriesStats loss, val;
        RollingRate rate;
        RunConfig config;
        double first_t_ms = 0, last_t_ms = 0;
        bool dirty = false;
    };

    static void optional_number(plugin::JsonObject& o, const char* key, std::optional<double> v) {
        if (v) o.number(key, *v);
        else o.null(key);
    }

    void publish(const std::string& session, Run& run) {
        run.dirty = false;
        if (!run.config.loaded) run.config = parse_run_config(host_.run_config(session));
        plugin::JsonObject o;
        o.text("loss_metric", loss_metric_);
        optional_number(o, "current_loss", run.loss.last());
        o.integer("step", run.loss.last_step());
        optional_number(o, "mean_loss", run.loss.mean());
        optional_number(o, "recent_mean_loss", run.loss.recent_mean());
        o.integer("recent_window", static_cast<std::int64_t>(window_));
        optional_number(o, "best_val_loss", run.val.best());
        if (run.val.best()) o.integer("best_val_step", run.val.best_step());
        else o.null("best_val_step");
        auto rate = run.rate.steps_per_second();
        optional_number(o, "iters_per_s", rate);
        o.number("elapsed_s", (run.last_t_ms - run.first_t_ms) / 1000.0);
        std::optional<double> eta;
        if (rate && run.config.max_iters) eta = eta_seconds(run.loss.last_step(), *run.config.max_iters, *rate);
        optional_number(o, "eta_s", eta);
        optional_number(o, "eta_ms", eta ? std::optional<double>(run.last_t_ms + *eta * 1000.0) : std::nullopt);
        if (run.config.max_iters) o.integer("max_iters", *run.config.max_iters);
        else o.null("max_iters");
        o.integer("non_finite", run.loss.non_finite());
        host_.publish_stats(session, o.str());
    }

    plugin::Host& host_;
    std::size_t window_;
    double rate_window_s_;
    std::string loss_metric_, val_metric_;
    std::map<std::string, Run> runs_;
};

const plugin::Setting kSettings[] = {
    {"window_points", "int", "100", "points in the recent-window mean"},
    {"rate_window_s", "double", "10", "rolling window for the training rate, in seconds"},
    {"loss_metric", "string", "train/loss", "the training loss series"},
    {"val_metric", "string", "val/loss", "the validation loss series"},
};

const plugin::PluginDescriptor kDescriptor = {
    plugin::kAbiVersion,
    sizeof(plugin::PluginDescriptor),
    "statistics",
    "current, mean and best loss, training rate, elapsed time and estimated completion",
    "1.0",
    kSettings,
    sizeof kSettings / sizeof kSettings[0],
    nullptr,
    create_plugin<StatisticsPlugin>,
    destroy_plugin,
};

}  // namespace
}  // namespace trainscope::plugins

TRAINSCOPE_PLUGIN(trainscope::plugins::kDescriptor)
