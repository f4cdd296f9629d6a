#include "serve/json_in.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace trainscope::agent {

namespace {

/// Forwards SAX events to the document being built, refusing to nest deeper than the limit.
class DepthLimit {
public:
    DepthLimit(rapidjson::Document& doc, unsigned max_depth) : doc_(doc), max_depth_(max_depth) {}
    bool exceeded() const { return exceeded_; }

    bool Null() { return doc_.Null(); }
    bool Bool(bool b) { return doc_.Bool(b); }
    bool Int(int i) { return doc_.Int(i); }
    bool Uint(unsigned i) { return doc_.Uint(i); }
    bool Int64(std::int64_t i) { return doc_.Int64(i); }
    bool Uint64(std::uint64_t i) { return doc_.Uint64(i); }
    bool Double(double d) { return doc_.Double(d); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return doc_.RawNumber(s, n, copy); }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
    bool StartObject() { return enter() && doc_.StartObject(); }
    bool EndObject(rapidjson::SizeType members) { --depth_; return doc_.EndObject(members); }
    bool StartArray() { return enter() && doc_.StartArray(); }
    bool EndArray(rapidjson::SizeType elements) { --depth_; return doc_.EndArray(elements); }

private:
    bool enter() {
        if (++depth_ <= max_depth_) return true;
        exceeded_ = true;
        return false;
    }
    rapidjson::Document& doc_;
    unsigned max_depth_;
    unsigned depth_ = 0;
    bool exceeded_ = false;
};

}  // namespace

std::string parse_json(rapidjson::Document& doc, std::string_view text, const JsonLimits& limits) {
    if (text.size() > limits.max_bytes)
        return "is " + std::to_string(text.size()) + " bytes, over the size limit of " +
               std::to_string(limits.max_bytes) + " bytes";
    rapidjson::ParseResult result;
    bool too_deep = false;
    // Populate hands the document to this generator as the SAX handler and keeps the root
    // only when the generator succeeds.
    auto generate = [&](rapidjson::Document& target) {
        DepthLimit limit(target, limits.max_depth);
        rapidjson::MemoryStream in(text.data(), text.size());
        rapidjson::Reader reader;
        result = reader.Parse<rapidjson::kParseIterativeFlag>(in, limit);
        too_deep = limit.exceeded();
        return !result.IsError();
    };
    doc.Populate(generate);
    if (too_deep)
        return "is nested deeper than the depth limit of " + std::to_string(limits.max_depth) +
               " levels";
    if (result.IsError())
        return std::string("is not valid JSON: ") + rapidjson::GetParseError_En(result.Code()) +
               " at byte " + std::to_string(result.Offset());
    return "";
}

}  // namespace trainscope::agent
