// ts-seed-runs --db=PATH --runs=N [--points=P] [--prefix=NAME]: writes N ended runs into the
// database at PATH through the agent's own Store, as an agent that had drained them would
// have: names "<prefix>-000".., started one second apart (the last the newest), a config
// {"optim": {"lr", "name"}, "model": {"layers", "width"}, "seed", "batch_size"} whose lr,
// layers and seed vary from run to run (batch_size and width never do), and P points of
// train/loss and P/10 of val/loss each. Run it while no agent has the file open.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "store/store.hpp"

namespace {

const char* option(int argc, char** argv, const char* name) {
    std::size_t n = std::strlen(name);
    for (int i = 1; i < argc; ++i)
        if (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace trainscope::agent;
    const char* db = option(argc, argv, "--db");
    const char* runs_text = option(argc, argv, "--runs");
    const char* points_text = option(argc, argv, "--points");
    const char* prefix_text = option(argc, argv, "--prefix");
    if (!db || !runs_text) {
        std::fprintf(stderr, "usage: ts-seed-runs --db=PATH --runs=N [--points=P] [--prefix=NAME]\n");
        return 2;
    }
    int runs = std::atoi(runs_text);
    int points = points_text ? std::atoi(points_text) : 50;
    std::string prefix = prefix_text ? prefix_text : "sweep";
    static const double kRates[] = {0.01, 0.003, 0.001, 0.0003};
    try {
        Store store(db);
        double now_ms = static_cast<double>(std::time(nullptr)) * 1000.0;
        for (int i = 0; i < runs; ++i) {
            char id[40], name[64], config[256];
            std::snprintf(id, sizeof id, "01SEED%s%06d", prefix == "sweep" ? "" : "X", i);
            std::snprintf(name, sizeof name, "%s-%03d", prefix.c_str(), i);
            double lr = kRates[i % 4];
            int layers = 2 + (i / 4) % 5;
            std::snprintf(config, sizeof config,
                          R"({"optim":{"lr":%g,"name":"adamw"},"model":{"layers":%d,"width":256},"seed":%d,"batch_size":32})",
                          lr, layers, i);
            double started = now_ms - (runs - i) * 1000.0;
            store.register_run(id, name, "seed-host", 1000 + i, started);
            CommitBatch batch;
            std::int64_t train = store.series_id(id, 0, "train/loss");
            std::int64_t val = store.series_id(id, 0, "val/loss");
            // A loss that falls faster with a larger lr and ends at a level set by the run's
            // index, so latest and best differ from run to run.
            double floor = 0.5 + 0.001 * (i % 97);
            for (int p = 0; p < points; ++p) {
                double v = floor + 2.0 / (1.0 + lr * 300 * p);
                auto t_us = static_cast<std::int64_t>(started * 1000) + p * 1000;
                batch.points.push_back(PendingPoint{train, p, t_us, v});
                if (p % 10 == 9) batch.points.push_back(PendingPoint{val, p, t_us, v + 0.05 + (p == points - 1 ? 0.01 : 0)});
            }
            batch.runs.push_back(RunUpdate{id, "finished", config, "", started + points});
            store.commit(batch);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ts-seed-runs: %s\n", e.what());
        return 1;
    }
    std::printf("seeded %d runs\n", runs);
    return 0;
}
