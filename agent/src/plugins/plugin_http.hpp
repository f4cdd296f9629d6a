// The plugin API's HTTP reply (plugin::HttpResponse) over a Poco response: the plugin sets a
// status and headers, then writes a chunked body.
#pragma once

#include <Poco/Net/HTTPServerResponse.h>

#include <trainscope/plugin.hpp>

namespace trainscope::agent {

class PluginHttpResponse : public plugin::HttpResponse {
public:
    explicit PluginHttpResponse(Poco::Net::HTTPServerResponse& r) : r_(r) {}
    void set_status(int status) override {
        r_.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    }
    void set_header(const std::string& name, const std::string& value) override { r_.set(name, value); }
    std::ostream& body() override {
        if (!out_) {
            r_.setChunkedTransferEncoding(true);
            out_ = &r_.send();
        }
        return *out_;
    }
    /// Sends the headers if the plugin wrote no body.
    void finish() {
        if (!out_) body();
    }

private:
    Poco::Net::HTTPServerResponse& r_;
    std::ostream* out_ = nullptr;
};

}  // namespace trainscope::agent
