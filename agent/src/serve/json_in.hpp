// JSON from outside the agent (WebSocket frames, a trainer's config and model info) is
// parsed iteratively, so nesting cannot overflow the stack, and within limits on size and
// depth, so one message cannot take the agent's memory or time.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace trainscope::agent {

struct JsonLimits {
    std::size_t max_bytes;
    unsigned max_depth;  ///< arrays and objects nested inside each other
};

/// WebSocket client messages (the frame limit is the same size).
inline constexpr JsonLimits kFrameJsonLimits{64 * 1024, 64};
/// A trainer's config (the segment's config blob holds 64 KiB).
inline constexpr JsonLimits kConfigJsonLimits{64 * 1024, 64};
/// A trainer's model info (512 KiB blob; a layer tree 32 levels deep nests about 70 levels).
inline constexpr JsonLimits kModelInfoJsonLimits{512 * 1024, 128};

/// Parses `text` into `doc`. Returns "" on success, else what was wrong: a size or depth
/// limit, by name and value, or the syntax error and its byte offset.
std::string parse_json(rapidjson::Document& doc, std::string_view text, const JsonLimits& limits);

}  // namespace trainscope::agent
