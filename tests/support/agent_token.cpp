#include "support/agent_token.hpp"

#include <cstdio>
#include <random>

namespace trainscope::test {

const std::string& test_token() {
    static const std::string token = [] {
        std::random_device device;
        std::string out = "test-";
        for (int i = 0; i < 4; ++i) {
            char part[9];
            std::snprintf(part, sizeof part, "%08x", device());
            out += part;
        }
        return out;
    }();
    return token;
}

}  // namespace trainscope::test
