#include "cli.hpp"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <vector>

namespace gpt {

namespace {

enum class Kind { integer, real, text, seed, flag };

struct Flag {
    const char* name;
    Kind kind;
    const char* help;
    std::function<void(TrainOptions&, const std::string&)> set;  // value already parsed as valid
    std::function<std::string(const TrainOptions&)> show;        // the default, for --help
};

bool parse_long(const std::string& s, long long& out) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    out = std::strtoll(s.c_str(), &end, 10);
    return errno == 0 && *end == '\0';
}

bool parse_real(const std::string& s, double& out) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return errno == 0 && *end == '\0' && std::isfinite(out);
}

std::string show_real(double x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

Flag int_flag(const char* name, int TrainOptions::*field, const char* help) {
    return Flag{name, Kind::integer, help,
                [field](TrainOptions& o, const std::string& v) { o.*field = std::stoi(v); },
                [field](const TrainOptions& o) { return std::to_string(o.*field); }};
}

Flag real_flag(const char* name, double TrainOptions::*field, const char* help) {
    return Flag{name, Kind::real, help,
                [field](TrainOptions& o, const std::string& v) { o.*field = std::stod(v); },
                [field](const TrainOptions& o) { return show_real(o.*field); }};
}

Flag text_flag(const char* name, std::string TrainOptions::*field, const char* help) {
    return Flag{name, Kind::text, help,
                [field](TrainOptions& o, const std::string& v) { o.*field = v; },
                [field](const TrainOptions& o) { return o.*field; }};
}

const std::vector<Flag>& flags() {
    static const std::vector<Flag> table = {
        int_flag("n_layer", &TrainOptions::n_layer, "transformer blocks"),
        int_flag("n_head", &TrainOptions::n_head, "attention heads per block (must divide n_embd)"),
        int_flag("n_embd", &TrainOptions::n_embd, "embedding width"),
        int_flag("block_size", &TrainOptions::block_size, "context length in characters"),
        int_flag("batch_size", &TrainOptions::batch_size, "sequences per iteration"),
        int_flag("max_iters", &TrainOptions::max_iters, "training iterations"),
        int_flag("eval_interval", &TrainOptions::eval_interval,
                 "evaluate every this many iterations"),
        int_flag("eval_iters", &TrainOptions::eval_iters, "batches per split in each evaluation"),
        int_flag("log_interval", &TrainOptions::log_interval,
                 "print an 'iter' line every this many iterations"),
        real_flag("learning_rate", &TrainOptions::learning_rate, "peak learning rate"),
        real_flag("min_lr", &TrainOptions::min_lr, "learning rate at the end of the cosine decay"),
        int_flag("warmup_iters", &TrainOptions::warmup_iters, "linear warmup iterations"),
        int_flag("lr_decay_iters", &TrainOptions::lr_decay_iters,
                 "end of the cosine decay (-1: max_iters)"),
        real_flag("weight_decay", &TrainOptions::weight_decay,
                  "AdamW weight decay (2-D weights only)"),
        real_flag("beta1", &TrainOptions::beta1, "AdamW beta1"),
        real_flag("beta2", &TrainOptions::beta2, "AdamW beta2"),
        real_flag("grad_clip", &TrainOptions::grad_clip,
                  "clip gradients to this global norm (0: off)"),
        real_flag("dropout", &TrainOptions::dropout, "dropout rate (only 0 is supported)"),
        Flag{"seed", Kind::seed, "random seed (weights and batches)",
             [](TrainOptions& o, const std::string& v) { o.seed = std::stoull(v); },
             [](const TrainOptions& o) { return std::to_string(o.seed); }},
        int_flag("threads", &TrainOptions::threads, "worker threads (0: all hardware threads)"),
        text_flag("data", &TrainOptions::data, "training text file"),
        text_flag("name", &TrainOptions::name, "Trainscope run name"),
        Flag{"no_log", Kind::flag, "do not create a Trainscope run (measure logging overhead)",
             [](TrainOptions& o, const std::string&) { o.no_log = true; }, nullptr},
        Flag{"help", Kind::flag, "show this help", nullptr, nullptr},
    };
    return table;
}

/// Checks one value against its kind; returns an error message or "".
std::string check_value(const Flag& f, const std::string& v) {
    const std::string where = std::string("--") + f.name + ": ";
    switch (f.kind) {
        case Kind::integer: {
            long long n = 0;
            if (!parse_long(v, n) || n < INT_MIN || n > INT_MAX)
                return where + "expected an integer, got '" + v + "'";
            return "";
        }
        case Kind::seed: {
            long long n = 0;
            if (!parse_long(v, n) || n < 0 || n > (1LL << 53) - 1)
                return where + "expected an integer from 0 to 2^53-1, got '" + v + "'";
            return "";
        }
        case Kind::real: {
            double x = 0;
            if (!parse_real(v, x)) return where + "expected a finite number, got '" + v + "'";
            return "";
        }
        case Kind::text:
            if (v.empty()) return where + "must not be empty";
            return "";
        case Kind::flag:
            return "";
    }
    return "";
}

/// Cross-field and range checks once every flag is in.
std::string validate(const TrainOptions& o) {
    auto at_least = [](const char* name, long long v, long long min) {
        return v >= min ? std::string()
                        : "--" + std::string(name) + ": must be at least " + std::to_string(min) +
                              ", got " + std::to_string(v);
    };
    for (const std::string& e :
         {at_least("n_layer", o.n_layer, 1), at_least("n_head", o.n_head, 1),
          at_least("n_embd", o.n_embd, 1), at_least("block_size", o.block_size, 1),
          at_least("batch_size", o.batch_size, 1), at_least("max_iters", o.max_iters, 0),
          at_least("eval_interval", o.eval_interval, 1), at_least("eval_iters", o.eval_iters, 1),
          at_least("log_interval", o.log_interval, 1), at_least("warmup_iters", o.warmup_iters, 0),
          at_least("lr_decay_iters", o.lr_decay_iters, -1), at_least("threads", o.threads, 0)})
        if (!e.empty()) return e;
    if (o.n_embd % o.n_head != 0)
        return "--n_embd: must be a multiple of n_head (" + std::to_string(o.n_head) + "), got " +
               std::to_string(o.n_embd);
    if (o.dropout != 0.0)
        return "--dropout: only 0 is supported (this trainer has no dropout layers), got " +
               show_real(o.dropout);
    if (!(o.learning_rate > 0))
        return "--learning_rate: must be positive, got " + show_real(o.learning_rate);
    if (o.min_lr < 0) return "--min_lr: must not be negative, got " + show_real(o.min_lr);
    if (o.weight_decay < 0)
        return "--weight_decay: must not be negative, got " + show_real(o.weight_decay);
    if (o.grad_clip < 0)
        return "--grad_clip: must not be negative (0 turns clipping off), got " +
               show_real(o.grad_clip);
    if (o.beta1 < 0 || o.beta1 >= 1) return "--beta1: must be in [0, 1), got " + show_real(o.beta1);
    if (o.beta2 < 0 || o.beta2 >= 1) return "--beta2: must be in [0, 1), got " + show_real(o.beta2);
    return "";
}

}  // namespace

CliResult parse_cli(int argc, const char* const* argv) {
    CliResult r;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0) {
            r.error = "unexpected argument '" + arg + "' (flags look like --name value)";
            return r;
        }
        std::string name = arg.substr(2), value;
        bool has_value = false;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        const Flag* flag = nullptr;
        for (const Flag& f : flags())
            if (name == f.name) flag = &f;
        if (!flag) {
            r.error = "unknown flag '--" + name + "' (see --help)";
            return r;
        }
        if (flag->kind == Kind::flag) {
            if (has_value) {
                r.error = "--" + name + " takes no value";
                return r;
            }
            if (name == "help")
                r.help = true;
            else
                flag->set(r.options, "");
            continue;
        }
        if (!has_value) {
            if (i + 1 >= argc) {
                r.error = "--" + name + ": missing value";
                return r;
            }
            value = argv[++i];
        }
        r.error = check_value(*flag, value);
        if (!r.error.empty()) return r;
        flag->set(r.options, value);
    }
    if (!r.help) r.error = validate(r.options);
    return r;
}

std::string usage_text(const char* program) {
    std::ostringstream os;
    os << "usage: " << program << " [--flag value | --flag=value]...\n"
       << "Trains a character-level GPT on a text file and logs it to Trainscope.\n\nflags:\n";
    const TrainOptions defaults;
    for (const Flag& f : flags()) {
        std::string left = std::string("  --") + f.name;
        if (f.kind != Kind::flag) left += " " + (f.show ? f.show(defaults) : std::string());
        if (left.size() < 44)
            left.resize(44, ' ');
        else
            left += "  ";
        os << left << f.help << "\n";
    }
    os << "\nExit status: 0 done, 1 runtime failure, 2 bad flags or data.\n";
    return os.str();
}

}  // namespace gpt
