#include "serve/model_info_check.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "serve/json_in.hpp"

namespace trainscope::agent {

namespace {

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxNodes = 100'000;

struct Checker {
    rapidjson::Document::AllocatorType& alloc;
    std::size_t nodes = 0;
    std::string error;

    bool fail(const std::string& where, const std::string& what) {
        error = where + " " + what;
        return false;
    }

    /// Checks a node and sets its params (when absent) to the sum of its children's.
    bool node(rapidjson::Value& n, const std::string& where, int depth, std::int64_t* params_out) {
        if (depth > kMaxDepth) return fail(where, "is nested deeper than " + std::to_string(kMaxDepth) + " levels");
        if (++nodes > kMaxNodes) return fail(where, "has more than " + std::to_string(kMaxNodes) + " nodes in all");
        if (!n.IsObject()) return fail(where, "must be an object");
        auto name = n.FindMember("name");
        if (name == n.MemberEnd() || !name->value.IsString() || name->value.GetStringLength() == 0)
            return fail(where, "needs a non-empty string \"name\"");
        auto type = n.FindMember("type");
        if (type == n.MemberEnd() || !type->value.IsString()) return fail(where, "needs a string \"type\"");
        for (const char* shape : {"input_shape", "output_shape"}) {
            auto s = n.FindMember(shape);
            if (s != n.MemberEnd() && !s->value.IsArray() && !s->value.IsNull())
                return fail(where + "." + shape, "must be an array");
        }
        std::int64_t sum = 0;
        auto children = n.FindMember("children");
        if (children != n.MemberEnd()) {
            if (!children->value.IsArray()) return fail(where + ".children", "must be an array");
            for (rapidjson::SizeType i = 0; i < children->value.Size(); ++i) {
                std::int64_t p = 0;
                if (!node(children->value[i], where + ".children[" + std::to_string(i) + "]", depth + 1, &p))
                    return false;
                // Each count fits an int64 but their sum need not (signed overflow is UB).
                if (__builtin_add_overflow(sum, p, &sum))
                    return fail(where + ".children", "hold more params in all than 2^63 - 1");
            }
        }
        auto params = n.FindMember("params");
        if (params == n.MemberEnd()) {
            n.AddMember("params", rapidjson::Value(static_cast<int64_t>(sum)), alloc);
            *params_out = sum;
        } else {
            if (!params->value.IsInt64() || params->value.GetInt64() < 0)
                return fail(where + ".params", "must be a non-negative integer");
            *params_out = params->value.GetInt64();
        }
        return true;
    }
};

}  // namespace

ModelInfoResult normalise_model_info(const std::string& text) {
    ModelInfoResult r;
    rapidjson::Document doc;
    r.error = parse_json(doc, text, kModelInfoJsonLimits);
    if (!r.error.empty()) return r;
    if (!doc.IsObject()) {
        r.error = "must be a JSON object with \"config\" and \"tree\"";
        return r;
    }
    auto config = doc.FindMember("config");
    if (config != doc.MemberEnd() && !config->value.IsObject()) {
        r.error = "config must be an object";
        return r;
    }
    auto tree = doc.FindMember("tree");
    if (tree == doc.MemberEnd()) {
        r.error = "has no \"tree\" (the layer tree)";
        return r;
    }
    Checker check{doc.GetAllocator(), 0, ""};
    std::int64_t total = 0;
    if (!check.node(tree->value, "tree", 0, &total)) {
        r.error = check.error;
        return r;
    }
    if (config == doc.MemberEnd()) doc.AddMember("config", rapidjson::Value(rapidjson::kObjectType), doc.GetAllocator());
    auto declared = doc.FindMember("total_params");
    if (declared == doc.MemberEnd()) doc.AddMember("total_params", rapidjson::Value(static_cast<int64_t>(total)), doc.GetAllocator());
    else if (!declared->value.IsInt64()) {
        r.error = "total_params must be an integer";
        return r;
    }
    doc.AddMember("node_count", rapidjson::Value(static_cast<uint64_t>(check.nodes)), doc.GetAllocator());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    // RapidJSON reads 1e999 as infinity but cannot write it back: the reply would be broken JSON.
    if (!doc.Accept(w)) {
        r.error = "holds a number too large for JSON (such as 1e999)";
        return r;
    }
    r.ok = true;
    r.json = buf.GetString();
    return r;
}

}  // namespace trainscope::agent
