// ts-model-info: prints the SDK's nanoGPT model info (trainscope::gpt_model_info_json) for
// the given hyper-parameters, so tests can hand a real tree to ts-producer --model_info.
//
//   ts-model-info [--vocab_size V] [--n_layer L] [--n_head H] [--n_embd C] [--block_size T]
//                 [--dropout P] [--bias] [--tied_lm_head]
// Defaults are the nanoGPT "shakespeare-char" model: 65, 6, 6, 384, 256, 0.2, no bias, tied.
#include <trainscope/model_info.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    trainscope::GptModelInfo m;
    m.vocab_size = 65;
    m.n_layer = 6;
    m.n_head = 6;
    m.n_embd = 384;
    m.block_size = 256;
    m.dropout = 0.2;
    m.bias = false;
    m.tied_lm_head = true;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", flag.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (flag == "--vocab_size") m.vocab_size = std::atoi(next());
        else if (flag == "--n_layer") m.n_layer = std::atoi(next());
        else if (flag == "--n_head") m.n_head = std::atoi(next());
        else if (flag == "--n_embd") m.n_embd = std::atoi(next());
        else if (flag == "--block_size") m.block_size = std::atoi(next());
        else if (flag == "--dropout") m.dropout = std::atof(next());
        else if (flag == "--bias") m.bias = true;
        else if (flag == "--no_bias") m.bias = false;
        else if (flag == "--tied_lm_head") m.tied_lm_head = true;
        else if (flag == "--untied_lm_head") m.tied_lm_head = false;
        else { std::fprintf(stderr, "unknown flag %s\n", flag.c_str()); return 2; }
    }
    std::string json = trainscope::gpt_model_info_json(m);
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
}
