// Flag parsing: nanoGPT's names, both spellings, and a clear error for every bad input.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "cli.hpp"

namespace gpt {
namespace {

CliResult parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv = {"trainscope-gpt"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_cli(static_cast<int>(argv.size()), argv.data());
}

TEST(Cli, DefaultsAreValid) {
    const CliResult r = parse({});
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.help);
    EXPECT_EQ(r.options.data, "/usr/share/common-licenses/GPL-3");
    EXPECT_EQ(r.options.name, "gpt");
    EXPECT_EQ(r.options.grad_clip, 1.0);
    EXPECT_EQ(r.options.dropout, 0.0);
}

TEST(Cli, ParsesBothSpellings) {
    const CliResult r =
        parse({"--n_layer", "3", "--n_embd=48", "--n_head", "6", "--learning_rate", "3e-4",
               "--seed=7", "--name", "run one", "--no_log", "--dropout", "0.0"});
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.options.n_layer, 3);
    EXPECT_EQ(r.options.n_embd, 48);
    EXPECT_EQ(r.options.n_head, 6);
    EXPECT_DOUBLE_EQ(r.options.learning_rate, 3e-4);
    EXPECT_EQ(r.options.seed, 7u);
    EXPECT_EQ(r.options.name, "run one");
    EXPECT_TRUE(r.options.no_log);
}

TEST(Cli, Help) {
    EXPECT_TRUE(parse({"--help"}).help);
}

TEST(Cli, UsageListsEveryRequiredFlag) {
    const std::string usage = usage_text("trainscope-gpt");
    for (const char* f :
         {"--n_layer", "--n_head", "--n_embd", "--block_size", "--batch_size", "--max_iters",
          "--eval_interval", "--eval_iters", "--learning_rate", "--dropout", "--seed", "--data",
          "--name", "--warmup_iters", "--min_lr", "--weight_decay", "--grad_clip", "--help"})
        EXPECT_NE(usage.find(f), std::string::npos) << f;
}

void expect_error(std::initializer_list<const char*> args, const std::string& fragment) {
    const CliResult r = parse(args);
    EXPECT_NE(r.error.find(fragment), std::string::npos) << "error was: '" << r.error << "'";
}

TEST(Cli, RejectsBadInput) {
    expect_error({"--n_layers", "2"}, "unknown flag '--n_layers'");
    expect_error({"n_layer"}, "unexpected argument 'n_layer'");
    expect_error({"--n_layer"}, "--n_layer: missing value");
    expect_error({"--n_layer", "two"}, "--n_layer: expected an integer, got 'two'");
    expect_error({"--n_layer", "2.5"}, "expected an integer");
    expect_error({"--n_layer", "99999999999"}, "expected an integer");
    expect_error({"--n_layer", "0"}, "--n_layer: must be at least 1");
    expect_error({"--learning_rate", "fast"}, "--learning_rate: expected a finite number");
    expect_error({"--learning_rate", "nan"}, "expected a finite number");
    expect_error({"--learning_rate", "0"}, "--learning_rate: must be positive");
    expect_error({"--dropout", "0.1"}, "--dropout: only 0 is supported");
    expect_error({"--n_embd", "30", "--n_head", "4"}, "--n_embd: must be a multiple of n_head");
    expect_error({"--seed", "-1"}, "--seed");
    expect_error({"--data", ""}, "--data: must not be empty");
    expect_error({"--no_log=1"}, "--no_log takes no value");
    expect_error({"--grad_clip", "-1"}, "--grad_clip: must not be negative");
    expect_error({"--beta2", "1"}, "--beta2: must be in [0, 1)");
    expect_error({"--eval_iters", "0"}, "--eval_iters: must be at least 1");
}

}  // namespace
}  // namespace gpt
