// The shape of a GPT: everything needed to lay out its parameters.
#pragma once

namespace gpt {

/// Model dimensions, in nanoGPT's names. No biases anywhere (nanoGPT's bias=False).
struct GptConfig {
    int vocab_size = 0;
    int block_size = 64;  ///< longest context, and the length of every training sequence
    int n_layer = 2;
    int n_head = 4;
    int n_embd = 64;  ///< must be a multiple of n_head
};

}  // namespace gpt
