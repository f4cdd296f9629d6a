#include "support/ws_client.hpp"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>

#include "support/agent_token.hpp"

namespace trainscope::test {

using Poco::Net::WebSocket;

WsClient::WsClient(unsigned short port) : session_("127.0.0.1", port) {
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/ws", Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + test_token());
    Poco::Net::HTTPResponse response;
    ws_ = std::make_unique<WebSocket>(session_, request, response);
    ws_->setMaxPayloadSize(64 * 1024 * 1024);
    buffer_.resize(64 * 1024 * 1024);
}

void WsClient::send_text(const std::string& text) {
    ws_->sendFrame(text.data(), static_cast<int>(text.size()), WebSocket::FRAME_TEXT);
}

std::optional<std::string> WsClient::receive_text(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        ws_->setReceiveTimeout(Poco::Timespan(left.count()));
        int flags = 0;
        int n = 0;
        try {
            n = ws_->receiveFrame(buffer_.data(), static_cast<int>(buffer_.size()), flags);
        } catch (const Poco::TimeoutException&) {
            return std::nullopt;
        } catch (const Poco::Exception&) {  // reset by the agent
            closed_ = true;
            return std::nullopt;
        }
        int op = flags & WebSocket::FRAME_OP_BITMASK;
        if ((n == 0 && flags == 0) || op == WebSocket::FRAME_OP_CLOSE) {
            if (n >= 2)
                close_status_ = (static_cast<unsigned char>(buffer_[0]) << 8) | static_cast<unsigned char>(buffer_[1]);
            closed_ = true;
            return std::nullopt;
        }
        if (op == WebSocket::FRAME_OP_TEXT) return std::string(buffer_.data(), static_cast<std::size_t>(n));
    }
    return std::nullopt;
}

}  // namespace trainscope::test
