#include "support/http_client.hpp"

#include "support/agent_token.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <cstdlib>
#include <sstream>

namespace trainscope::test {

namespace {

Poco::Timespan timespan(std::chrono::milliseconds ms) {
    return Poco::Timespan(static_cast<long>(ms.count() / 1000),
                          static_cast<long>(ms.count() % 1000) * 1000);
}

/// Parses "HTTP/1.1 400 Reason\r\nHeaders\r\n\r\nbody" as far as it goes.
void parse_reply(const std::string& reply, HttpResponse& out) {
    std::size_t space = reply.find(' ');
    if (reply.rfind("HTTP/", 0) != 0 || space == std::string::npos) return;
    out.status = std::atoi(reply.c_str() + space + 1);
    std::size_t end = reply.find("\r\n\r\n");
    if (end == std::string::npos) return;
    out.body = reply.substr(end + 4);
    Poco::Net::HTTPResponse headers;
    std::istringstream in(reply.substr(0, end + 4));
    try {
        headers.read(in);
        out.content_type = headers.getContentType();
    } catch (const Poco::Exception&) {
    }
}

}  // namespace

Headers bearer_header() { return {{"Authorization", "Bearer " + test_token()}}; }

HttpResponse http_request(unsigned short port, const std::string& method, const std::string& target,
                          std::chrono::milliseconds timeout) {
    return http_request_with(port, method, target, bearer_header(), timeout);
}

HttpResponse http_request_body(unsigned short port, const std::string& method, const std::string& target,
                               const std::string& body, std::chrono::milliseconds timeout) {
    HttpResponse out;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        session.setTimeout(timespan(timeout));
        Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [name, value] : bearer_header()) request.set(name, value);
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        out.status = static_cast<int>(response.getStatus());
        out.content_type = response.getContentType();
        Poco::StreamCopier::copyToString(in, out.body);
    } catch (const Poco::Exception& e) {
        out.error = e.displayText();
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

HttpResponse http_request_with(unsigned short port, const std::string& method, const std::string& target,
                               const Headers& headers, std::chrono::milliseconds timeout) {
    HttpResponse out;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        session.setTimeout(timespan(timeout));
        Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        if (method == "POST" || method == "PUT") request.setContentLength(0);
        for (const auto& [name, value] : headers) request.set(name, value);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session.receiveResponse(response);
        out.status = static_cast<int>(response.getStatus());
        out.content_type = response.getContentType();
        out.content_disposition = response.get("Content-Disposition", "");
        out.set_cookie = response.get("Set-Cookie", "");
        out.www_authenticate = response.get("WWW-Authenticate", "");
        for (const auto& [name, value] : response) out.headers[name] = value;
        Poco::StreamCopier::copyToString(body, out.body);
    } catch (const Poco::Exception& e) {
        out.error = e.displayText();
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

HttpResponse raw_http_exchange(unsigned short port, const std::string& request,
                               std::chrono::milliseconds timeout) {
    HttpResponse out;
    try {
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
        socket.setSendTimeout(timespan(timeout));
        socket.setReceiveTimeout(timespan(timeout));
        try {
            for (std::size_t sent = 0; sent < request.size();)
                sent += static_cast<std::size_t>(socket.sendBytes(
                    request.data() + sent, static_cast<int>(request.size() - sent)));
            socket.shutdownSend();
        } catch (const Poco::Exception& e) {
            out.error = "send: " + e.displayText();  // the server stopped reading: read its reply
        }
        std::string reply;
        char buf[4096];
        try {
            for (int n; (n = socket.receiveBytes(buf, sizeof buf)) > 0;)
                reply.append(buf, static_cast<std::size_t>(n));
        } catch (const Poco::Exception& e) {
            out.error +=
                (out.error.empty() ? "" : "; ") + std::string("receive: ") + e.displayText();
        }
        parse_reply(reply, out);
    } catch (const Poco::Exception& e) {
        out.error = e.displayText();
    }
    return out;
}

std::string url_encode(const std::string& s) {
    std::string out;
    Poco::URI::encode(s, "!#$&'()*+,/:;=?@[]%\"<>\\^`{|} ", out);
    return out;
}

}  // namespace trainscope::test
