#include "serve/http_util.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <charconv>

#include "serve/json_out.hpp"

namespace trainscope::agent {

std::vector<std::string> split_path(std::string_view raw) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < raw.size()) {
        std::size_t j = raw.find('/', i);
        if (j == std::string_view::npos) j = raw.size();
        if (j > i) {
            std::string decoded;
            try {
                Poco::URI::decode(std::string(raw.substr(i, j - i)), decoded);
            } catch (const Poco::SyntaxException&) {
                throw HttpError{400, "bad percent-encoding in path"};
            }
            if (decoded == "." || decoded == ".." || decoded.find('\0') != std::string::npos)
                throw HttpError{400, "bad path segment"};
            out.push_back(std::move(decoded));
        }
        i = j + 1;
    }
    return out;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    if (s.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

void send_json(Poco::Net::HTTPServerResponse& response, int status, const std::string& body) {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.setContentType("application/json");
    response.set("Cache-Control", "no-store");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
}

void send_error(Poco::Net::HTTPServerResponse& response, int status, const std::string& message) {
    send_json(response, status, error_json(message));
}

}  // namespace trainscope::agent
