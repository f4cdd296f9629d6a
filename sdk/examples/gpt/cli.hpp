// Command-line flags in nanoGPT's vocabulary: --name value or --name=value.
#pragma once

#include <string>

#include "train_options.hpp"

namespace gpt {

struct CliResult {
    TrainOptions options;
    bool help = false;  ///< --help was given: print usage_text() and exit 0
    std::string error;  ///< non-empty: a message naming the bad flag or value (exit 2)
};

/// Parses and validates argv[1..argc-1] on top of the defaults in TrainOptions.
CliResult parse_cli(int argc, const char* const* argv);

/// The --help text, listing every flag with its default.
std::string usage_text(const char* program);

}  // namespace gpt
