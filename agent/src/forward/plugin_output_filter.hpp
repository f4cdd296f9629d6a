// What a node agent leaves out when it ships: the output of its own plugins. The hub runs the
// plugins over every node's shipped points (docs/postgres.md, "Plugins on the hub"), so a
// node's derived series ("<plugin>/<name>") and its plugins' alerts would be counted twice,
// and a node sees only its own ranks anyway. They stay in the node's SQLite, for its own page.
#pragma once

#include <set>
#include <string>

namespace trainscope::agent {

/// True if `series` is a derived series of one of `plugins` ("velocity/iters_per_s").
bool is_plugin_series(const std::string& series, const std::set<std::string>& plugins);

/// True if an event is an alert one of `plugins` raised (kind "alert", its JSON's "plugin").
bool is_plugin_alert(const std::string& kind, const std::string& text, const std::set<std::string>& plugins);

}  // namespace trainscope::agent
