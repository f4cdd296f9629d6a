// Reading a plugin's resolved settings (declared defaults, overridden by --plugin-option).
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include <trainscope/plugin.hpp>

namespace trainscope::plugins {

inline double setting_number(const plugin::Settings& s, const std::string& key) {
    auto it = s.find(key);
    if (it == s.end()) throw std::invalid_argument("missing setting " + key);
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0')
        throw std::invalid_argument("setting " + key + " must be a number, got '" + it->second + "'");
    return v;
}

inline std::string setting_text(const plugin::Settings& s, const std::string& key) {
    auto it = s.find(key);
    if (it == s.end()) throw std::invalid_argument("missing setting " + key);
    return it->second;
}

}  // namespace trainscope::plugins
