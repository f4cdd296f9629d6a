// The access token of the agents the tests start: one random value per test process. Agents a
// test starts get it with --token or TRAINSCOPE_TOKEN; http_request() sends it as a bearer
// token unless the test sends headers of its own.
#pragma once

#include <string>

namespace trainscope::test {

const std::string& test_token();

}  // namespace trainscope::test
