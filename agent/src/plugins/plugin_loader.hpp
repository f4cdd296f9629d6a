// Opening a plugin library and checking it before any of its code is trusted: the file
// (plugin_file.hpp), the entry point, the ABI version and descriptor size (in that order:
// nothing else in the descriptor is read before both match), the name, and the settings.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <trainscope/plugin.hpp>

namespace Poco {
class SharedLibrary;
}

namespace trainscope::agent {

/// A library that passed every check, with the settings its instance is created with.
struct OpenedPlugin {
    std::unique_ptr<Poco::SharedLibrary> library;
    const plugin::PluginDescriptor* descriptor = nullptr;
    std::string name;           ///< the descriptor's name, once it was found valid
    plugin::Settings settings;  ///< declared defaults, overridden by the agent's options
    std::string refusal;        ///< why it must not be loaded; then library is null
};

/// Opens and checks the library at path. `overrides`: --plugin-option values for plugins by
/// name; a key the plugin does not declare refuses it. `taken(name)`: whether a plugin of that
/// name is loaded already. Never throws.
OpenedPlugin open_plugin(const std::string& path, const std::map<std::string, plugin::Settings>& overrides,
                         const std::function<bool(const std::string&)>& taken);

}  // namespace trainscope::agent
