// WebSocket client messages: any text frame a browser (or anyone holding the token) sends.
#include <cstddef>
#include <cstdint>

#include "serve/client_message.hpp"
#include "fuzz_check.hpp"

using trainscope::agent::ClientMessage;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ClientMessage m = trainscope::agent::parse_client_message(reinterpret_cast<const char*>(data), size);
    switch (m.type) {
        case ClientMessage::Type::invalid:
            FUZZ_CHECK(!m.error.empty(), "an invalid message without a reason");
            break;
        case ClientMessage::Type::subscribe:
            FUZZ_CHECK(m.since_seq >= 0, "a negative since_seq");
            [[fallthrough]];
        case ClientMessage::Type::unsubscribe:
            FUZZ_CHECK(!m.session_id.empty(), "a subscription without a session id");
            break;
        case ClientMessage::Type::ping:
            break;
    }
    return 0;
}
