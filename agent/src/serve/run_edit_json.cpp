#include "serve/run_edit_json.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "ingest/utf8.hpp"
#include "serve/http_util.hpp"
#include "serve/json_in.hpp"

namespace trainscope::agent {

namespace {

constexpr JsonLimits kRunEditJsonLimits{kMaxRunEditBody, 8};

[[noreturn]] void bad(const std::string& message) { throw HttpError{400, message}; }

/// A text field: a JSON string of valid UTF-8 within `max_bytes`, with no control character
/// other than those `allowed` (notes keep their line breaks and tabs; a name keeps none).
std::string text_field(const rapidjson::Value& v, const char* field, std::size_t max_bytes, const char* allowed) {
    if (!v.IsString()) bad(std::string(field) + " must be a string");
    std::string s(v.GetString(), v.GetStringLength());
    if (s.size() > max_bytes)
        bad(std::string(field) + " is " + std::to_string(s.size()) + " bytes; at most " + std::to_string(max_bytes));
    if (!is_valid_utf8(s)) bad(std::string(field) + " is not valid UTF-8");
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 || u == 0x7f) && !std::strchr(allowed, c))
            bad(std::string(field) + " holds a control character (code " + std::to_string(u) + ")");
    }
    return s;
}

bool tag_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_.:/+", c) != nullptr;
}

}  // namespace

RunEdit parse_run_edit(std::string_view body) {
    if (body.size() > kMaxRunEditBody)
        bad("the body is larger than " + std::to_string(kMaxRunEditBody) + " bytes");
    rapidjson::Document doc;
    std::string problem = parse_json(doc, body, kRunEditJsonLimits);
    if (!problem.empty()) bad("the body is not JSON: " + problem);
    if (!doc.IsObject()) bad("the body must be a JSON object with name, notes or tags");
    RunEdit edit;
    for (const auto& m : doc.GetObject()) {
        std::string key(m.name.GetString(), m.name.GetStringLength());
        const rapidjson::Value& v = m.value;
        if (key == "name") {
            std::string name = v.IsNull() ? "" : text_field(v, "name", kMaxRunNameBytes, "");
            name.erase(0, name.find_first_not_of(' '));
            name.erase(name.find_last_not_of(' ') + 1);
            edit.name = name;
        } else if (key == "notes") {
            edit.notes = v.IsNull() ? "" : text_field(v, "notes", kMaxRunNotesBytes, "\n\r\t");
        } else if (key == "tags") {
            if (!v.IsArray()) bad("tags must be an array of strings");
            if (v.Size() > kMaxRunTags)
                bad("tags holds " + std::to_string(v.Size()) + " tags; at most " + std::to_string(kMaxRunTags));
            std::vector<std::string> tags;
            for (const auto& t : v.GetArray()) {
                if (!t.IsString()) bad("tags must be an array of strings");
                std::string tag(t.GetString(), t.GetStringLength());
                if (tag.empty() || tag.size() > kMaxRunTagBytes ||
                    !std::all_of(tag.begin(), tag.end(), tag_char))
                    bad("tag '" + valid_utf8(tag.substr(0, 60)) + "' must be 1 to " + std::to_string(kMaxRunTagBytes) +
                        " letters, digits or - _ . : / +");
                if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
            }
            edit.tags = std::move(tags);
        } else {
            bad("unknown field '" + valid_utf8(key.substr(0, 60)) + "': a run edit takes name, notes and tags");
        }
    }
    if (!edit.name && !edit.notes && !edit.tags) bad("nothing to change: give name, notes or tags");
    return edit;
}

}  // namespace trainscope::agent
