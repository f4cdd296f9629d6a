// A WebSocket client for tests (Poco::Net::WebSocket): connects to a real agent's /ws with
// the tests' token, sends text frames and reads the text frames the agent sends back.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/WebSocket.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace trainscope::test {

class WsClient {
public:
    /// Connects to ws://127.0.0.1:port/ws with the bearer token; throws on failure.
    explicit WsClient(unsigned short port);

    void send_text(const std::string& text);
    /// The next text frame; nullopt on timeout or once the agent closed the connection
    /// (then close_status() says why, if it said).
    std::optional<std::string> receive_text(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    bool closed() const { return closed_; }
    /// The status code of the agent's close frame (0 if none came).
    int close_status() const { return close_status_; }
    Poco::Net::WebSocket& socket() { return *ws_; }

private:
    Poco::Net::HTTPClientSession session_;
    std::unique_ptr<Poco::Net::WebSocket> ws_;
    std::string buffer_;
    bool closed_ = false;
    int close_status_ = 0;
};

}  // namespace trainscope::test
