#include "plugins/plugin_loader.hpp"

#include <Poco/SharedLibrary.h>

#include <regex>

#include <unistd.h>

#include "plugins/plugin_file.hpp"

namespace trainscope::agent {

OpenedPlugin open_plugin(const std::string& path, const std::map<std::string, plugin::Settings>& overrides,
                         const std::function<bool(const std::string&)>& taken) {
    OpenedPlugin out;
    auto refuse = [&](std::string why) {
        OpenedPlugin refused;
        refused.name = out.name;
        refused.refusal = std::move(why);
        return refused;
    };
    PluginFile file = open_plugin_file(path);
    if (file.fd < 0) return refuse(file.refusal);
    // dlopen reaches the file through its open descriptor, so the library that runs is the
    // file just checked even if the directory entry is swapped meanwhile.
    std::string via = load_path(file.fd);
    auto lib = std::make_unique<Poco::SharedLibrary>();
    try {
        lib->load(via);
    } catch (const Poco::Exception& e) {
        ::close(file.fd);
        std::string why = e.displayText();
        for (std::size_t at = why.find(via); at != std::string::npos; at = why.find(via, at + path.size()))
            why.replace(at, via.size(), path);  // name the file, not the descriptor
        return refuse("not a loadable library (" + why + ")");
    }
    // The descriptor stays open for good, as the library stays mapped: glibc now knows the
    // library by the name /proc/self/fd/N, and would hand it out again for a later dlopen of
    // that name if the number were reused for another file.
    if (!lib->hasSymbol(plugin::kEntryPoint))
        return refuse(std::string("no ") + plugin::kEntryPoint + "() entry point");
    auto entry = reinterpret_cast<plugin::DescriptorFn>(lib->getSymbol(plugin::kEntryPoint));
    const plugin::PluginDescriptor* d = nullptr;
    try {
        d = entry();
    } catch (...) {
        return refuse("entry point threw");
    }
    if (!d) return refuse("entry point returned no descriptor");
    // ABI version first, then size: nothing else in the struct is read before both match.
    if (d->abi_version != plugin::kAbiVersion)
        return refuse("ABI version " + std::to_string(d->abi_version) + ", expected " +
                      std::to_string(plugin::kAbiVersion));
    if (d->struct_size != sizeof(plugin::PluginDescriptor))
        return refuse("descriptor size " + std::to_string(d->struct_size) + ", expected " +
                      std::to_string(sizeof(plugin::PluginDescriptor)));
    if (!d->name || !std::regex_match(d->name, std::regex("[a-z0-9_]{1,40}")))
        return refuse("plugin name must be 1..40 characters of [a-z0-9_]");
    out.name = d->name;
    if (taken(out.name)) return refuse("a plugin named " + out.name + " is loaded already");
    if (!d->create || !d->destroy) return refuse("descriptor lacks create/destroy");

    // Settings: declared defaults, overridden by --plugin-option, checked against their type.
    for (std::size_t i = 0; i < d->setting_count && d->settings; ++i)
        out.settings[d->settings[i].name] = d->settings[i].default_value ? d->settings[i].default_value : "";
    if (auto it = overrides.find(d->name); it != overrides.end())
        for (const auto& [key, value] : it->second) {
            if (!out.settings.count(key)) return refuse("unknown setting '" + key + "'");
            out.settings[key] = value;
        }
    out.library = std::move(lib);
    out.descriptor = d;
    return out;
}

}  // namespace trainscope::agent
