// ts-producer: a trainer process for tests. Logs a known pattern so tests can check every
// value: thread t, metric m ("t<t>/m<m>"), step s -> value s * 0.5 + t * 1000 + m.
//
//   ts-producer --name N --threads T --metrics M --steps S [--rate R] [--capacity C] [--block]
//               [--crash] [--hold_ms MS] [--start_step S0] [--config JSON] [--model_info JSON]
//               [--loss_only [--rise_at S] [--nan_at S]] [--start_at UNIX_MS]
//               [--value_offset V] [--finish_when PATH] [--series NAME:V0,V1,...]...
//               [--time_shift_ms MS]
// --rate R: points per second per thread (0: as fast as possible).
// --crash: _exit(0) without finishing (as a killed trainer would leave it).
// --loss_only: log one series "train/loss" (and "val/loss" every 100 steps) with a decaying
//   curve instead of the t/m pattern, for browser tests. --rise_at S: from step S on the
//   loss climbs again (a diverging run); --nan_at S: the loss is NaN at step S and after.
// --start_at UNIX_MS: sleep until that wall-clock time before creating the Run (trainers
//   started together race for real).
// --value_offset V: add V to every t/m value (tells ranks of one run apart).
// --finish_when PATH: after logging (and --hold_ms), wait until PATH exists (at most 60 s),
//   then finish: a test decides when this trainer ends.
// --series NAME:V0,V1,...: also log series NAME (any text, split at the last ':') with
//   value Vi at step i; values as strtod reads them (-1.5, nan, inf, -inf).
// --time_shift_ms MS: stamp every point MS ms later than the clock says (negative: earlier),
//   through Metric::log_at: runs whose points lie seconds apart without waiting for them.
// Prints "session <id>" first and "done <dropped>" last, on stdout.
#include <trainscope/trainscope.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

int main(int argc, char** argv) {
    std::string name = "producer", config, model_info;
    long threads = 1, metrics = 1, steps = 1000, start_step = 0;
    double rate = 0;
    long hold_ms = 0;
    long long start_at_ms = 0;
    double value_offset = 0;
    long long time_shift_ms = 0;
    std::string finish_when;
    std::vector<std::string> series;
    bool crash = false, loss_only = false;
    long rise_at = -1, nan_at = -1;
    trainscope::RunOptions options;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", flag.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (flag == "--name") name = next();
        else if (flag == "--threads") threads = std::atol(next());
        else if (flag == "--metrics") metrics = std::atol(next());
        else if (flag == "--steps") steps = std::atol(next());
        else if (flag == "--start_step") start_step = std::atol(next());
        else if (flag == "--rate") rate = std::atof(next());
        else if (flag == "--capacity") options.capacity = static_cast<std::uint32_t>(std::atol(next()));
        else if (flag == "--block") options.overflow = trainscope::OverflowPolicy::block;
        else if (flag == "--crash") crash = true;
        else if (flag == "--loss_only") loss_only = true;
        else if (flag == "--rise_at") rise_at = std::atol(next());
        else if (flag == "--nan_at") nan_at = std::atol(next());
        else if (flag == "--hold_ms") hold_ms = std::atol(next());
        else if (flag == "--config") config = next();
        else if (flag == "--model_info") model_info = next();
        else if (flag == "--start_at") start_at_ms = std::atoll(next());
        else if (flag == "--value_offset") value_offset = std::atof(next());
        else if (flag == "--finish_when") finish_when = next();
        else if (flag == "--series") series.push_back(next());
        else if (flag == "--time_shift_ms") time_shift_ms = std::atoll(next());
        else { std::fprintf(stderr, "unknown flag %s\n", flag.c_str()); return 2; }
    }

    if (start_at_ms > 0)
        std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(start_at_ms)));
    trainscope::Run run(name, options);
    std::printf("session %s\n", run.session_id().c_str());
    std::fflush(stdout);
    if (!config.empty()) run.set_config(config);
    if (!model_info.empty()) run.set_model_info(model_info);

    // Every point goes through here: the clock's time, or that time shifted (--time_shift_ms).
    auto put = [time_shift_ms](const trainscope::Metric& m, std::int64_t step, double value) {
        if (time_shift_ms == 0) return m.log(step, value);
        auto when = std::chrono::system_clock::now() + std::chrono::milliseconds(time_shift_ms);
        return m.log_at(step, value, when);
    };
    auto worker = [&](long t) {
        std::vector<trainscope::Metric> handles;
        if (loss_only) handles.push_back(run.metric("train/loss"));
        else
            for (long m = 0; m < metrics; ++m)
                handles.push_back(run.metric("t" + std::to_string(t) + "/m" + std::to_string(m)));
        trainscope::Metric val = run.metric("val/loss");
        auto start = std::chrono::steady_clock::now();
        for (long s = start_step; s < start_step + steps; ++s) {
            if (rate > 0) {
                auto due = start + std::chrono::duration<double>((s - start_step) / rate);
                std::this_thread::sleep_until(due);
            }
            if (loss_only) {
                double x = static_cast<double>(s);
                double loss = 2.0 * std::exp(-x / 2000.0) + 0.3 + 0.05 * std::sin(x / 7.0);
                if (rise_at >= 0 && s > rise_at) loss += 0.002 * static_cast<double>(s - rise_at);
                if (nan_at >= 0 && s >= nan_at) loss = std::nan("");
                put(handles[0], s, loss);
                if (s % 100 == 0) put(val, s, 2.1 * std::exp(-x / 2000.0) + 0.35);
            } else {
                for (long m = 0; m < metrics; ++m)
                    put(handles[static_cast<std::size_t>(m)], s, static_cast<double>(s) * 0.5 + static_cast<double>(t) * 1000 + static_cast<double>(m) + value_offset);
            }
        }
    };
    for (const std::string& spec : series) {
        std::size_t colon = spec.rfind(':');
        if (colon == std::string::npos) { std::fprintf(stderr, "--series %s: no ':'\n", spec.c_str()); return 2; }
        trainscope::Metric metric = run.metric(spec.substr(0, colon));
        const char* p = spec.c_str() + colon + 1;
        for (std::int64_t step = 0;; ++step) {
            char* end = nullptr;
            double value = std::strtod(p, &end);
            if (end == p || (*end != ',' && *end != '\0')) {
                std::fprintf(stderr, "--series %s: bad value at %s\n", spec.c_str(), p);
                return 2;
            }
            put(metric, step, value);
            if (*end == '\0') break;
            p = end + 1;
        }
    }
    std::vector<std::thread> pool;
    for (long t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();

    std::printf("done %llu\n", static_cast<unsigned long long>(run.dropped()));
    std::fflush(stdout);
    if (hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    for (int i = 0; !finish_when.empty() && i < 6000 && !std::filesystem::exists(finish_when); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (crash) _exit(0);
    run.finish();
    return 0;
}
