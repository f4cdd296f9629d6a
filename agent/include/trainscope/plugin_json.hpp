// A small JSON object builder for plugins' statistics and replies (part of the plugin API,
// so a plugin needs no JSON library of its own).
//
//   JsonObject o;  o.number("iters_per_s", 12.5).text("trend", "decreasing");  o.str()
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace trainscope::plugin {
inline namespace v1 {

/// Appends s to out as a JSON string literal.
inline void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

/// Appends a number; NaN and infinities become null (JSON has neither).
inline void append_json_number(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    out += buf;
}

class JsonObject {
public:
    JsonObject& number(std::string_view key, double v) {
        append_json_number(begin(key), v);
        return *this;
    }
    JsonObject& integer(std::string_view key, std::int64_t v) {
        begin(key) += std::to_string(v);
        return *this;
    }
    JsonObject& text(std::string_view key, std::string_view v) {
        append_json_string(begin(key), v);
        return *this;
    }
    JsonObject& boolean(std::string_view key, bool v) {
        begin(key) += v ? "true" : "false";
        return *this;
    }
    JsonObject& null(std::string_view key) {
        begin(key) += "null";
        return *this;
    }
    /// Inserts ready-made JSON (an object or array built elsewhere).
    JsonObject& raw(std::string_view key, std::string_view json) {
        begin(key) += json;
        return *this;
    }
    std::string str() const { return body_.empty() ? "{}" : body_ + "}"; }

private:
    std::string& begin(std::string_view key) {
        body_ += body_.empty() ? "{" : ",";
        append_json_string(body_, key);
        body_ += ':';
        return body_;
    }
    std::string body_;
};

}  // namespace v1
}  // namespace trainscope::plugin
