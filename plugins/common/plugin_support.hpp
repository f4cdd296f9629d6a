// What every built-in plugin repeats: the factory pair of its descriptor, and the
// end-of-run step (publish the final figures, forget the run).
#pragma once

#include <string>
#include <string_view>

#include <trainscope/plugin.hpp>

namespace trainscope::plugins {

/// Descriptor factory for a plugin class constructed from (Host&, const Settings&).
template <typename P>
plugin::Plugin* create_plugin(plugin::Host& host, const plugin::Settings& settings) {
    return new P(host, settings);
}
inline void destroy_plugin(plugin::Plugin* p) { delete p; }

/// On "run_ended": calls publish(session, state) one last time and drops the run's state.
template <typename Runs, typename Publish>
void finish_run(Runs& runs, std::string_view kind, std::string_view session, Publish publish) {
    if (kind != "run_ended") return;
    auto it = runs.find(std::string(session));
    if (it == runs.end()) return;
    publish(it->first, it->second);
    runs.erase(it);
}

}  // namespace trainscope::plugins
