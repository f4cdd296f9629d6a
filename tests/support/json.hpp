// JSON in tests: parse a response body with RapidJSON (full double precision), and check
// the agent's error shape {"error": "..."}.
#pragma once

#include <rapidjson/document.h>

#include <gtest/gtest.h>

#include <string>

namespace trainscope::test {

struct HttpResponse;

/// Parses `text`; check HasParseError() on the result.
rapidjson::Document parse_json(const std::string& text);

/// Success if `text` is a JSON object with a non-empty string member "error".
::testing::AssertionResult is_error_json(const std::string& text);

/// Success if the response has a status in [lo, hi] and an error JSON body.
::testing::AssertionResult is_json_error_response(const HttpResponse& r, int lo = 400,
                                                  int hi = 499);

/// A string member, or "" when missing or not a string.
std::string string_member(const rapidjson::Value& v, const char* name);

}  // namespace trainscope::test
