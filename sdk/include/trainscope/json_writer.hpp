// A tiny streaming JSON builder for trainers: configs and layer trees, no library needed.
// Header-only, standard library only.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace trainscope {


/// Appends JSON text; commas between members and elements are inserted automatically.
///   JsonWriter w; w.begin_object().key("n").integer(3).end_object();  // {"n":3}
/// The caller keeps begin/end balanced and puts a key() before each object member.
class JsonWriter {
public:
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view k);
    JsonWriter& string(std::string_view s);
    JsonWriter& integer(long long n);
    /// Shortest text that reads back as the same double; NaN and infinities become null.
    JsonWriter& number(double x);
    JsonWriter& boolean(bool b);
    JsonWriter& null();

    const std::string& str() const { return out_; }

private:
    void before_value();

    std::string out_;
    std::vector<bool> has_items_;  // per open container: needs a comma before the next item
    bool after_key_ = false;
};

/// s as a quoted JSON string, with quotes, backslashes and control characters escaped.
std::string json_quote(std::string_view s);



inline std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(ch);  // bytes >= 0x80 pass through: UTF-8 stays UTF-8
                }
        }
    }
    out.push_back('"');
    return out;
}

inline void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!has_items_.empty()) {
        if (has_items_.back()) out_.push_back(',');
        has_items_.back() = true;
    }
}

inline JsonWriter& JsonWriter::begin_object() {
    before_value();
    out_.push_back('{');
    has_items_.push_back(false);
    return *this;
}

inline JsonWriter& JsonWriter::end_object() {
    out_.push_back('}');
    has_items_.pop_back();
    return *this;
}

inline JsonWriter& JsonWriter::begin_array() {
    before_value();
    out_.push_back('[');
    has_items_.push_back(false);
    return *this;
}

inline JsonWriter& JsonWriter::end_array() {
    out_.push_back(']');
    has_items_.pop_back();
    return *this;
}

inline JsonWriter& JsonWriter::key(std::string_view k) {
    before_value();
    out_ += json_quote(k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

inline JsonWriter& JsonWriter::string(std::string_view s) {
    before_value();
    out_ += json_quote(s);
    return *this;
}

inline JsonWriter& JsonWriter::integer(long long n) {
    before_value();
    out_ += std::to_string(n);
    return *this;
}

inline JsonWriter& JsonWriter::number(double x) {
    if (!std::isfinite(x)) return null();
    before_value();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", x);
    if (std::strtod(buf, nullptr) != x) std::snprintf(buf, sizeof buf, "%.17g", x);
    out_ += buf;
    return *this;
}

inline JsonWriter& JsonWriter::boolean(bool b) {
    before_value();
    out_ += b ? "true" : "false";
    return *this;
}

inline JsonWriter& JsonWriter::null() {
    before_value();
    out_ += "null";
    return *this;
}

}  // namespace trainscope
