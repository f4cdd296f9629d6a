// The run's hyper-parameters as the JSON object sent with Run::set_config.
#pragma once

#include <string>

#include "train_options.hpp"

namespace gpt {

/// Every option plus "vocab_size", "tokens_per_iter" (batch_size * block_size), "dataset"
/// (the data path) and "threads".
std::string build_run_config_json(const TrainOptions& options, int vocab_size, int threads);

}  // namespace gpt
