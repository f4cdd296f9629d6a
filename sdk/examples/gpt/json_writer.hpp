// A tiny streaming JSON builder: enough for configs and layer trees, no library needed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gpt {

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

}  // namespace gpt
