// The CSV and JSON escaping of text the agent writes out: any bytes as a run id or metric
// name must come back unchanged from a JSON parser and a CSV reader.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <trainscope/plugin_json.hpp>

#include "../../../plugins/export/csv_cells.hpp"
#include "fuzz_check.hpp"
#include "serve/json_out.hpp"

namespace {

/// The JSON string `json` holds, as a parser reads it.
std::string json_round_trip(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    FUZZ_CHECK(!doc.HasParseError() && doc.IsString(), "escaped text is not a JSON string");
    return std::string(doc.GetString(), doc.GetStringLength());
}

/// One CSV cell as a reader (RFC 4180) reads it: the quotes undone.
std::string csv_round_trip(const std::string& cell) {
    if (cell.empty() || cell.front() != '"') {
        FUZZ_CHECK(cell.find_first_of(",\"\n\r") == std::string::npos, "an unquoted cell holds , \" or a newline");
        return cell;
    }
    FUZZ_CHECK(cell.size() >= 2 && cell.back() == '"', "a quoted cell is not closed");
    std::string out;
    for (std::size_t i = 1; i + 1 < cell.size(); ++i) {
        if (cell[i] == '"') {
            FUZZ_CHECK(i + 2 < cell.size() && cell[i + 1] == '"', "a lone quote inside a quoted cell");
            ++i;
        }
        out += cell[i];
    }
    return out;
}

/// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). Only such
/// text must come back byte for byte: invalid sequences may be replaced by U+FFFD on the way
/// out. Written out here because RapidJSON 1.1.0's validating writer reads past the end of a
/// string that ends inside a multi-byte sequence (this harness found it).
bool valid_utf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    std::size_t n = s.size(), i = 0;
    while (i < n) {
        unsigned c = p[i];
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0 || i + len > n) return false;
        std::uint32_t cp = len == 1 ? c : c & (0xFFu >> (len + 1));
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        static const std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    std::int64_t t_us = in.ConsumeIntegral<std::int64_t>();
    double value = in.ConsumeFloatingPoint<double>();
    std::string text = in.ConsumeRemainingBytesAsString();

    // RapidJSON's writer (the agent's REST and WebSocket replies).
    rapidjson::StringBuffer buf;
    trainscope::agent::JsonOut w(buf);
    trainscope::agent::write_string(w, text);
    const bool exact = valid_utf8(text);
    std::string back = json_round_trip(std::string(buf.GetString(), buf.GetSize()));
    FUZZ_CHECK(!exact || back == text, "write_string changed valid UTF-8 text");

    // The plugins' writer (export.json, analytics).
    std::string json;
    trainscope::plugin::append_json_string(json, text);
    back = json_round_trip(json);
    FUZZ_CHECK(!exact || back == text, "append_json_string changed valid UTF-8 text");
    std::string number;
    trainscope::plugin::append_json_number(number, value);
    rapidjson::Document num;
    num.Parse(number.c_str(), number.size());
    FUZZ_CHECK(!num.HasParseError() && (num.IsNumber() || num.IsNull()), "append_json_number wrote no JSON number");

    // The CSV export's cells.
    namespace csv = trainscope::plugins::csv;
    std::string read = csv_round_trip(csv::csv_text(text));
    bool formula = !text.empty() && std::string("=+-@\t\r").find(text.front()) != std::string::npos;
    FUZZ_CHECK(read == (formula ? "'" + text : text), "csv_text changed the text");
    FUZZ_CHECK(csv::value_text(value).find_first_of(",\"\n\r") == std::string::npos, "a number cell needs quoting");
    // Timestamps come from the store as integer microseconds.
    std::string when = csv::iso_time(static_cast<double>(t_us) / 1000.0);
    FUZZ_CHECK(when.find_first_of(",\"\n\r") == std::string::npos, "a timestamp cell needs quoting");
    return 0;
}
