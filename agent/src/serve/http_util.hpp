// Small helpers for HTTP handlers: path splitting, strict number parsing, JSON replies.
#pragma once

#include <Poco/Net/HTTPServerResponse.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trainscope::agent {

/// Thrown by handlers for a reply other than 200; the dispatcher turns it into JSON.
struct HttpError {
    int status;
    std::string message;
};

/// Splits the raw request path on '/' and percent-decodes each segment, so that a metric
/// named "train/loss" travels as "train%2Floss". Rejects "." and ".." segments.
std::vector<std::string> split_path(std::string_view raw_path);

/// Whole-string integer parse; nullopt for empty, junk, or out of range.
std::optional<std::int64_t> parse_int(std::string_view s);

void send_json(Poco::Net::HTTPServerResponse& response, int status, const std::string& body);
void send_error(Poco::Net::HTTPServerResponse& response, int status, const std::string& message);

}  // namespace trainscope::agent
