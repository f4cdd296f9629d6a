// Parsing what a browser sends over the WebSocket (client -> server messages), apart from
// the socket, so that it can be tested and fuzzed on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trainscope::agent {

struct ClientMessage {
    enum class Type { subscribe, unsubscribe, ping, invalid };
    Type type = Type::invalid;
    std::string session_id;      ///< subscribe/unsubscribe: never empty
    std::int64_t since_seq = 0;  ///< subscribe: >= 0
    bool has_since = false;      ///< subscribe: the client sent an integer since_seq
    std::string error;           ///< invalid: what to tell the client
};

/// Parses one text frame. Never throws: anything unusable is Type::invalid with a reason.
ClientMessage parse_client_message(const char* text, std::size_t size);

}  // namespace trainscope::agent
