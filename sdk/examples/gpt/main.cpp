// trainscope-gpt: trains a character-level GPT on a text file and logs it to Trainscope.
//
//   trainscope-gpt [--n_layer 2] [--n_embd 64] [--max_iters 5000] [--data FILE] [--name gpt] ...
//
// Ctrl-C stops after the current step, evaluates once more and finishes the run cleanly;
// a second Ctrl-C kills the process.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include <trainscope/model_info.hpp>

#include "char_dataset.hpp"
#include "cli.hpp"
#include "run_config_json.hpp"
#include "run_logger.hpp"
#include "train_loop.hpp"
#include "trainer.hpp"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int sig) {
    g_stop.store(true);
    std::signal(sig, SIG_DFL);
}

std::string with_commas(long long n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
    return s;
}

trainscope::GptModelInfo model_info_config(const gpt::GptConfig& c) {
    trainscope::GptModelInfo m;
    m.vocab_size = c.vocab_size;
    m.n_layer = c.n_layer;
    m.n_head = c.n_head;
    m.n_embd = c.n_embd;
    m.block_size = c.block_size;
    m.dropout = 0.0;
    m.bias = false;
    m.tied_lm_head = false;
    return m;
}

int train(const gpt::TrainOptions& o, const gpt::CharDataset& data) {
    gpt::Trainer trainer(o, data);
    const gpt::GptConfig& cfg = trainer.model_config();
    const long long tokens_per_iter = static_cast<long long>(o.batch_size) * o.block_size;
    std::printf("data: %s, %zu characters, vocab size %d (train %zu, val %zu)\n", o.data.c_str(),
                data.size(), cfg.vocab_size, data.train().size(), data.val().size());
    std::printf("tokens per iteration will be: %s\n", with_commas(tokens_per_iter).c_str());
    std::printf("number of parameters: %.2fM\n", trainer.model().num_params() / 1e6);
    std::printf("threads: %d\n", trainer.threads());

    std::unique_ptr<gpt::RunLogger> logger;
    if (!o.no_log) {
        logger = std::make_unique<gpt::RunLogger>(o.name, tokens_per_iter);
        trainscope::Run& run = logger->run();
        run.set_config(gpt::build_run_config_json(o, cfg.vocab_size, trainer.threads()));
        run.set_model_info(trainscope::gpt_model_info_json(model_info_config(cfg)));
        run.event("start", "training " + std::to_string(cfg.n_layer) + "-layer GPT (" +
                               with_commas(static_cast<long long>(trainer.model().num_params())) +
                               " parameters) on " + o.data);
        if (run.active())
            std::printf("trainscope: run '%s', session %s\n", o.name.c_str(),
                        run.session_id().c_str());
        else
            std::printf("trainscope: not logging (see the message above)\n");
    } else {
        std::printf("trainscope: logging off (--no_log)\n");
    }
    std::fflush(stdout);

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const gpt::TrainSummary s = run_training(trainer, o, logger.get(), stdout, &g_stop);

    char line[256];
    std::snprintf(line, sizeof line,
                  "%s after %d iterations in %.1f s (%.1f it/s): train loss %.4f, val loss %.4f",
                  s.interrupted ? "interrupted" : "done", s.iters, s.seconds,
                  s.seconds > 0 ? s.iters / s.seconds : 0.0, s.last_eval.train_loss,
                  s.last_eval.val_loss);
    std::printf("%s\n", line);
    if (logger) {
        logger->run().event(s.interrupted ? "interrupted" : "done", line);
        logger->run().finish();
        if (logger->run().dropped() > 0)
            std::printf("trainscope: %llu records dropped (ring full)\n",
                        static_cast<unsigned long long>(logger->run().dropped()));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const gpt::CliResult cli = gpt::parse_cli(argc, argv);
    if (cli.help) {
        std::fputs(gpt::usage_text("trainscope-gpt").c_str(), stdout);
        return 0;
    }
    if (!cli.error.empty()) {
        std::fprintf(stderr, "trainscope-gpt: %s\n", cli.error.c_str());
        return 2;
    }
    gpt::CharDataset data;
    try {
        data = gpt::CharDataset::from_file(cli.options.data);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trainscope-gpt: --data: %s\n", e.what());
        return 2;
    }
    try {
        return train(cli.options, data);
    } catch (const std::invalid_argument& e) {  // options that do not fit the data
        std::fprintf(stderr, "trainscope-gpt: %s\n", e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "trainscope-gpt: out of memory for this configuration\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trainscope-gpt: %s\n", e.what());
        return 1;
    }
}
