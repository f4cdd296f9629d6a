// Which plugin files the agent trusts enough to load. A plugin runs inside the agent with the
// agent's rights, so only a file that nobody but the agent's user (or root) can have written
// is loaded: a regular file, owned by the effective user or root, not group/world-writable.
#pragma once

#include <string>

namespace trainscope::agent {

/// A plugin library opened and checked for loading.
struct PluginFile {
    /// Open (O_CLOEXEC) on the checked file when refusal is empty, else -1. The caller owns it.
    int fd = -1;
    /// Why the file must not be loaded ("world-writable (mode 0666) ..."); empty if it may.
    std::string refusal;
};

/// Opens path without following a symlink and checks the opened file itself with fstat, so
/// the file checked is the file open (see load_path). Never throws.
PluginFile open_plugin_file(const std::string& path);

/// A name for dlopen that reaches exactly the open file fd (/proc/self/fd/N), whatever
/// happens to the directory entry after the check.
std::string load_path(int fd);

}  // namespace trainscope::agent
