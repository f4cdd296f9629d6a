// velocity: how fast a run trains. Iterations/s and tokens/s as rolling averages, and the
// estimated time to reach max_iters. The canonical plugin: read this one first.
//
// Input: the steps of one series per run (setting step_metric, default train/loss, lowest
// rank). Output, once a second per active run: statistics {iters_per_s, tokens_per_s,
// step, max_iters, eta_s} and derived series velocity/iters_per_s and velocity/tokens_per_s.
#include <map>
#include <string>

#include <trainscope/plugin.hpp>
#include <trainscope/plugin_json.hpp>

#include "rolling_rate.hpp"
#include "run_config.hpp"
#include "plugin_support.hpp"
#include "settings.hpp"

namespace trainscope::plugins {
namespace {

class VelocityPlugin : public plugin::Plugin {
public:
    VelocityPlugin(plugin::Host& host, const plugin::Settings& settings)
        : host_(host),
          window_s_(setting_number(settings, "window_s")),
          step_metric_(setting_text(settings, "step_metric")) {
        if (window_s_ <= 0) throw std::invalid_argument("window_s must be positive");
    }

    void on_points(const std::vector<plugin::SeriesPoints>& batch) override {
        for (const plugin::SeriesPoints& s : batch) {
            if (s.metric != step_metric_) continue;
            Run& run = runs_.try_emplace(std::string(s.session_id), window_s_).first->second;
            if (s.rank > run.rank) continue;  // follow the lowest rank only
            if (s.rank < run.rank) {
                // A lower rank showed up (on a hub, another node's ranks may come first):
                // follow it from scratch, never a window that mixes two ranks' steps.
                run.rate = RollingRate(window_s_);
                run.rank = s.rank;
            }
            for (std::size_t i = 0; i < s.count; ++i) run.rate.add(s.points[i].step, s.points[i].t_ms);
            run.dirty = true;
        }
    }

    void on_tick(double) override {
        for (auto& [session, run] : runs_) {
            if (!run.dirty) continue;
            run.dirty = false;
            if (!run.config.loaded) run.config = parse_run_config(host_.run_config(session));
            publish(session, run);
        }
    }

    void on_run_event(std::string_view kind, std::string_view session) override {
        finish_run(runs_, kind, session, [this](const std::string& id, auto& run) { publish(id, run); });
    }

private:
    struct Run {
        explicit Run(double window_s) : rate(window_s) {}
        RollingRate rate;
        RunConfig config;
        int rank = 1 << 30;
        bool dirty = false;
    };

    void publish(const std::string& session, const Run& run) {
        auto rate = run.rate.steps_per_second();
        auto step = run.rate.last_step();
        if (!rate || !step) return;
        plugin::JsonObject stats;
        stats.number("iters_per_s", *rate).integer("step", *step).number("window_s", window_s_);
        host_.publish_point(session, "iters_per_s", *step, *rate);
        if (run.config.tokens_per_iter) {
            double tokens = *rate * static_cast<double>(*run.config.tokens_per_iter);
            stats.number("tokens_per_s", tokens);
            host_.publish_point(session, "tokens_per_s", *step, tokens);
        } else {
            stats.null("tokens_per_s");
        }
        if (run.config.max_iters) {
            stats.integer("max_iters", *run.config.max_iters);
            auto eta = eta_seconds(*step, *run.config.max_iters, *rate);
            if (eta) stats.number("eta_s", *eta);
            else stats.null("eta_s");
        } else {
            stats.null("max_iters").null("eta_s");
        }
        host_.publish_stats(session, stats.str());
    }

    plugin::Host& host_;
    double window_s_;
    std::string step_metric_;
    std::map<std::string, Run> runs_;
};

const plugin::Setting kSettings[] = {
    {"window_s", "double", "10", "rolling window for the rate, in seconds"},
    {"step_metric", "string", "train/loss", "the series whose steps count iterations"},
};

const plugin::PluginDescriptor kDescriptor = {
    plugin::kAbiVersion,
    sizeof(plugin::PluginDescriptor),
    "velocity",
    "iterations/s and tokens/s as rolling averages, and the time to max_iters",
    "1.0",
    kSettings,
    sizeof kSettings / sizeof kSettings[0],
    nullptr,
    create_plugin<VelocityPlugin>,
    destroy_plugin,
};

}  // namespace
}  // namespace trainscope::plugins

TRAINSCOPE_PLUGIN(trainscope::plugins::kDescriptor)
