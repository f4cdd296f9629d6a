#include "serve/client_message.hpp"

#include <rapidjson/document.h>

#include "serve/json_in.hpp"

#include <algorithm>

namespace trainscope::agent {

namespace {

ClientMessage invalid(std::string why) {
    ClientMessage m;
    m.error = std::move(why);
    return m;
}

}  // namespace

ClientMessage parse_client_message(const char* text, std::size_t size) {
    rapidjson::Document doc;
    std::string problem = parse_json(doc, std::string_view(text, size), kFrameJsonLimits);
    if (!problem.empty()) return invalid("message " + problem);
    if (!doc.IsObject() || !doc.HasMember("type") || !doc["type"].IsString())
        return invalid("expected a JSON object with a string 'type'");
    std::string type = doc["type"].GetString();
    ClientMessage m;
    if (type == "ping") {
        m.type = ClientMessage::Type::ping;
        return m;
    }
    if (type != "subscribe" && type != "unsubscribe") return invalid("unknown message type '" + type + "'");
    if (doc.HasMember("session_id") && doc["session_id"].IsString()) m.session_id = doc["session_id"].GetString();
    if (m.session_id.empty()) return invalid(type + " needs a session_id");
    if (type == "unsubscribe") {
        m.type = ClientMessage::Type::unsubscribe;
        return m;
    }
    m.type = ClientMessage::Type::subscribe;
    m.has_since = doc.HasMember("since_seq") && doc["since_seq"].IsInt64();
    m.since_seq = m.has_since ? std::max<std::int64_t>(0, doc["since_seq"].GetInt64()) : 0;
    return m;
}

}  // namespace trainscope::agent
