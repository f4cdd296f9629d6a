// The cells of the CSV export, apart from the plugin so that they can be tested and fuzzed.
#pragma once

#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace trainscope::plugins::csv {

/// 2026-11-29T15:18:50.123Z
inline std::string iso_time(double t_ms) {
    std::time_t secs = static_cast<std::time_t>(std::floor(t_ms / 1000.0));
    int ms = static_cast<int>(t_ms - static_cast<double>(secs) * 1000.0);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

/// A CSV text field (run id, metric name): quoted when it holds a comma, quote or newline.
/// A spreadsheet reads a cell starting with = + - @ (or a tab or CR before one) as a
/// formula, so such text gets a leading ' and stays text. Numeric columns never come here:
/// a value of -1.5 must stay the number -1.5.
inline std::string csv_text(std::string_view s) {
    std::string text;
    if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos) text = "'";
    text += s;
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

inline std::string value_text(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace trainscope::plugins::csv
