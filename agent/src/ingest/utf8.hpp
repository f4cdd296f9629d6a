// Text that reaches the agent from outside (a trainer's segment, a plugin) is not trusted to
// be UTF-8: one invalid byte in a run name sent in `hello` makes browsers close the
// WebSocket, for every page on the machine. Text is made valid once, where it comes in.
#pragma once

#include <string>
#include <string_view>

namespace trainscope::agent {

/// True if s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// s with each invalid sequence replaced by U+FFFD; s itself when it is valid already.
std::string valid_utf8(std::string_view s);

}  // namespace trainscope::agent
