// A small real trainer: linear regression by mini-batch SGD on a fixed synthetic dataset,
// logging its actual training and validation loss through the Trainscope SDK.
//
//   trainscope-regression [--steps N] [--features D] [--lr X] [--sleep_ms MS] [--name NAME]
#include <trainscope/trainscope.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Dataset {
    std::vector<std::vector<double>> x;
    std::vector<double> y;
};

Dataset make_dataset(int rows, const std::vector<double>& true_w, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    int features = static_cast<int>(true_w.size());
    Dataset d;
    for (int i = 0; i < rows; ++i) {
        std::vector<double> row(features);
        double y = 0.5;
        for (int j = 0; j < features; ++j) {
            row[j] = normal(rng);
            y += true_w[j] * row[j];
        }
        d.x.push_back(std::move(row));
        d.y.push_back(y + 0.1 * normal(rng));
    }
    return d;
}

double mse(const Dataset& d, const std::vector<double>& w, double b) {
    double sum = 0;
    for (std::size_t i = 0; i < d.y.size(); ++i) {
        double pred = b;
        for (std::size_t j = 0; j < w.size(); ++j) pred += w[j] * d.x[i][j];
        sum += (pred - d.y[i]) * (pred - d.y[i]);
    }
    return sum / static_cast<double>(d.y.size());
}

}  // namespace

int main(int argc, char** argv) {
    long steps = 2000, features = 16, sleep_ms = 5;
    double lr = 0.01;
    std::string name = "regression";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--steps") steps = std::atol(argv[i + 1]);
        else if (flag == "--features") features = std::atol(argv[i + 1]);
        else if (flag == "--lr") lr = std::atof(argv[i + 1]);
        else if (flag == "--sleep_ms") sleep_ms = std::atol(argv[i + 1]);
        else if (flag == "--name") name = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> true_w(static_cast<std::size_t>(features));
    for (double& w : true_w) w = normal(rng);  // one model behind both splits
    Dataset train = make_dataset(4096, true_w, rng);
    Dataset val = make_dataset(512, true_w, rng);

    trainscope::Run run(name);
    run.set_config("{\"model\":\"linear\",\"features\":" + std::to_string(features) +
                   ",\"max_iters\":" + std::to_string(steps) + ",\"learning_rate\":" +
                   std::to_string(lr) + "}");
    trainscope::Metric loss_metric = run.metric("train/loss");
    trainscope::Metric grad_metric = run.metric("grad_norm");
    std::fprintf(stderr, "regression: session %s\n", run.session_id().c_str());

    std::vector<double> w(features, 0.0);
    double b = 0;
    std::uniform_int_distribution<std::size_t> pick(0, train.y.size() - 1);
    const int batch = 32;
    for (long step = 0; step < steps; ++step) {
        std::vector<double> gw(features, 0.0);
        double gb = 0, loss = 0;
        for (int k = 0; k < batch; ++k) {
            std::size_t i = pick(rng);
            double pred = b;
            for (long j = 0; j < features; ++j) pred += w[j] * train.x[i][j];
            double err = pred - train.y[i];
            loss += err * err / batch;
            for (long j = 0; j < features; ++j) gw[j] += 2 * err * train.x[i][j] / batch;
            gb += 2 * err / batch;
        }
        double norm = gb * gb;
        for (long j = 0; j < features; ++j) {
            w[j] -= lr * gw[j];
            norm += gw[j] * gw[j];
        }
        b -= lr * gb;
        loss_metric.log(step, loss);
        grad_metric.log(step, std::sqrt(norm));
        if (step % 100 == 0 || step == steps - 1) {
            double v = mse(val, w, b);
            run.log("val/loss", step, v);
            std::printf("step %ld: train loss %.4f, val loss %.4f\n", step, loss, v);
            std::fflush(stdout);
        }
        if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    }
    run.finish();
    return 0;
}
