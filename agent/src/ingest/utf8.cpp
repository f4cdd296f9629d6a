#include "ingest/utf8.hpp"

#include <rapidjson/encodings.h>

namespace trainscope::agent {

namespace {

/// The input-stream shape RapidJSON's decoder reads from; reads past the end as NUL, which
/// no multi-byte sequence accepts, so a sequence cut by the end is invalid.
struct ViewStream {
    using Ch = char;
    std::string_view s;
    std::size_t pos = 0;
    Ch Peek() const { return pos < s.size() ? s[pos] : '\0'; }
    Ch Take() { return pos < s.size() ? s[pos++] : '\0'; }
    std::size_t Tell() const { return pos; }
};

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

bool is_valid_utf8(std::string_view s) {
    ViewStream in{s};
    unsigned code = 0;
    while (in.pos < s.size()) {
        if (static_cast<unsigned char>(in.Peek()) < 0x80) {  // ASCII: the common case
            ++in.pos;
            continue;
        }
        if (!rapidjson::UTF8<char>::Decode(in, &code)) return false;
    }
    return true;
}

std::string valid_utf8(std::string_view s) {
    if (is_valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    ViewStream in{s};
    unsigned code = 0;
    while (in.pos < s.size()) {
        std::size_t start = in.pos;
        if (rapidjson::UTF8<char>::Decode(in, &code)) {
            out.append(s.substr(start, in.pos - start));
            continue;
        }
        // One U+FFFD for the bad byte and the continuation bytes that hang on it.
        out += kReplacement;
        in.pos = start + 1;
        while (in.pos < s.size() && is_continuation(s[in.pos])) ++in.pos;
    }
    return out;
}

}  // namespace trainscope::agent
