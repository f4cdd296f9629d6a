// A batch of training sequences: inputs and their next-character targets.
#pragma once

#include <vector>

namespace gpt {

/// batch_size sequences of seq_len tokens each, row-major; targets[i] follows tokens[i].
struct Batch {
    int batch_size = 0;
    int seq_len = 0;
    std::vector<int> tokens;
    std::vector<int> targets;
};

}  // namespace gpt
