// ts-outage-trainer: a trainer whose phases a test sets off with files, so the test can make
// the agent's storage fail between them.
//
//   ts-outage-trainer --dir DIR [--before N] [--during N]
// Logs N (--before, default 1000) points of metric "m" at steps 0.., prints "before N", then
// waits for DIR/outage. Then logs 1000 points of a new metric "late" (steps 0..999: its
// series is created while the storage fails), sets a config, a model info and an event, and
// logs --during (default 20000) more points of "m"; prints "during N" (the steps of "m"),
// waits for DIR/finish and finishes.
// Every file wait gives up after 120 s (exit 3), so a failed test leaves no trainer behind.
// Prints "session <id>" first and "done <dropped>" last, on stdout.
#include <trainscope/trainscope.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace {

bool wait_for_file(const std::string& path) {
    for (int i = 0; i < 12000; ++i) {
        if (std::filesystem::exists(path)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::fprintf(stderr, "ts-outage-trainer: %s never appeared\n", path.c_str());
    return false;
}

void say(const char* what, long long n) {
    std::printf("%s %lld\n", what, n);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir;
    long before = 1000, during = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--dir") dir = argv[i + 1];
        else if (flag == "--before") before = std::atol(argv[i + 1]);
        else if (flag == "--during") during = std::atol(argv[i + 1]);
        else { std::fprintf(stderr, "unknown flag %s\n", flag.c_str()); return 2; }
    }
    if (dir.empty()) { std::fprintf(stderr, "--dir is required\n"); return 2; }

    trainscope::Run run("outage");
    std::printf("session %s\n", run.session_id().c_str());
    std::fflush(stdout);
    trainscope::Metric m = run.metric("m");
    long step = 0;
    for (; step < before; ++step) m.log(step, static_cast<double>(step));
    say("before", step);

    if (!wait_for_file(dir + "/outage")) return 3;
    // The new metric first: the agent's first write after the disk filled creates its series.
    trainscope::Metric late = run.metric("late");
    for (long s = 0; s < 1000; ++s) late.log(s, static_cast<double>(s));
    run.set_config(R"({"lr":0.001,"set_during":"outage"})");
    run.set_model_info(R"({"config":{"n_layer":2},"tree":{"name":"model","type":"Net","params":10,"children":[]}})");
    run.event("checkpoint", "saved during the outage");
    for (; step < before + during; ++step) m.log(step, static_cast<double>(step));
    say("during", step);

    if (!wait_for_file(dir + "/finish")) return 3;
    say("done", static_cast<long long>(run.dropped()));
    run.finish();
    return 0;
}
