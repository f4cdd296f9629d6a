"""The Python SDK's cost per call, against baselines measured in the same run.

    PYTHONPATH=<build>/python /usr/bin/python3 bench/python_log_bench.py [--calls N] [--trainer ITERS]

Measured, each as ns per call with the same `for` loop around it (median over chunks of
2^14 points, the cyclic GC off while timing, as timeit does):
  metric.log(step, float)          the hot path
  run.log({10 keys}, step=)        one call for many metrics
  metric.log(step, cpu_tensor)     a 0-d CPU tensor (read with .item())
  list.append((step, value))       the floor: the least any in-process logger can do
  JSON lines: json.dumps + write   what simple trackers do, to an in-memory file
A real agent (from the build tree) drains the rings meanwhile, as in training: each case logs
into a run of its own with the default ring (2^16 slots a lane), a quarter of a lane per
chunk with a pause between, so the ring is warm and nothing is dropped (checked). --trainer ITERS also times the example GPT
trainer's iterations with and without Trainscope, alternating runs.
Prints "RESULT key value" lines for tools/bench, and a summary with the goals.
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def per_call_ns(body, calls: int, chunks: int, pause: float = 0.0) -> float:
    """Median over `chunks` timed calls of body(calls), per call. The cyclic GC is off while
    timing (as timeit does): otherwise the baselines, which allocate tracked objects, would
    mostly measure collections. `pause` leaves the agent time to drain between chunks."""
    samples = []
    for _ in range(chunks):
        gc.disable()
        start = time.perf_counter_ns()
        body(calls)
        elapsed = time.perf_counter_ns() - start
        gc.enable()
        samples.append(elapsed / calls)
        time.sleep(pause)
    return statistics.median(samples)


def start_agent(build: Path, namespace: str, data_dir: str) -> subprocess.Popen:
    log = open(os.path.join(data_dir, "agent.log"), "wb")
    agent = subprocess.Popen([str(build / "bin" / "trainscope-agent"), "--port=0", f"--namespace={namespace}",
                              f"--data-dir={data_dir}"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if "listening on" in Path(data_dir, "agent.log").read_text(errors="replace"):
            return agent
        time.sleep(0.05)
    agent.kill()
    raise SystemExit("the agent did not start")


def bench_calls(calls: int) -> dict[str, float]:
    import torch

    import trainscope

    results: dict[str, float] = {"dropped": 0}
    keys = {f"metric_{k}": 0.1 * k for k in range(10)}
    value = torch.tensor(0.5)

    def measure(key: str, points_per_call: int, loop) -> None:
        # As in training, the ring is reused: chunks of a quarter of a lane, with a pause for
        # the agent to drain. The first lap (which faults the ring's pages in) is not timed.
        chunk = (1 << 14) // points_per_call
        with trainscope.init(f"python bench {key}") as run:
            per_call_ns(lambda n: loop(run, n), chunk, 4, pause=0.05)
            results[key] = per_call_ns(lambda n: loop(run, n), chunk, max(8, calls // chunk // points_per_call), pause=0.05)
            results["dropped"] += run.dropped

    def log_float(run, n: int) -> None:
        log = run.metric("train/loss").log
        for step in range(n):
            log(step, 0.5)

    def log_dict(run, n: int) -> None:
        log = run.log
        for step in range(n):
            log(keys, step=step)

    def log_tensor(run, n: int) -> None:
        log = run.metric("train/loss").log
        for step in range(n):
            log(step, value)

    measure("metric_log_ns", 1, log_float)
    measure("dict10_log_ns", 10, log_dict)
    measure("tensor_log_ns", 1, log_tensor)

    def append_floor(n: int) -> None:
        points: list = []
        append = points.append
        for step in range(n):
            append((step, 0.5))

    def json_lines(n: int) -> None:
        out = io.StringIO()
        write, dumps = out.write, json.dumps
        for step in range(n):
            write(dumps({"metric": "train/loss", "step": step, "value": 0.5}) + "\n")

    def json_lines_dict(n: int) -> None:
        out = io.StringIO()
        write, dumps = out.write, json.dumps
        for step in range(n):
            write(dumps({"step": step, **keys}) + "\n")

    chunks = max(8, calls // (1 << 14))
    results["append_floor_ns"] = per_call_ns(append_floor, 1 << 14, chunks)
    results["json_lines_ns"] = per_call_ns(json_lines, 1 << 14, chunks)
    results["json_lines_dict10_ns"] = per_call_ns(json_lines_dict, 1 << 11, chunks)
    return results


def bench_trainer(iters: int, rounds: int, build: Path) -> dict[str, float]:
    """Median iteration time (ms) of the example trainer with and without Trainscope: the
    median of each run's per-iteration times (its "iter N: ..., time X ms" lines, the first
    ten left out as warm-up), then the median over alternating runs."""
    script = REPO / "sdk" / "examples" / "python" / "train_gpt.py"
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        for mode in ("with", "without"):
            args = [sys.executable, str(script), "--max_iters", str(iters), "--eval_interval", str(iters * 10),
                    "--log_interval", "1", "--name", "bench-trainer"]
            if mode == "without":
                args.append("--no-trainscope")
            done = subprocess.run(args, capture_output=True, text=True, timeout=1800,
                                  env=dict(os.environ, TRAINSCOPE_AUTOSTART="0"))
            if done.returncode != 0:
                raise SystemExit(f"train_gpt.py failed:\n{done.stderr}")
            per_iter = [float(ms) for ms in re.findall(r"^iter \d+: .*time ([0-9.]+) ?ms", done.stdout, re.M)]
            if len(per_iter) <= 10:
                raise SystemExit(f"train_gpt.py printed {len(per_iter)} 'iter N: ... time X ms' lines")
            times[mode].append(round(statistics.median(per_iter[10:]), 3))
    return {"trainer_iter_ms_with": statistics.median(times["with"]),
            "trainer_iter_ms_without": statistics.median(times["without"]),
            "trainer_iter_ms_with_all": times["with"], "trainer_iter_ms_without_all": times["without"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="points per case (in chunks of 2^14)")
    parser.add_argument("--trainer", type=int, default=0, metavar="ITERS",
                        help="also time the example trainer over ITERS iterations (0: skip)")
    parser.add_argument("--trainer-rounds", type=int, default=3)
    args = parser.parse_args()
    build = Path(os.environ.get("TRAINSCOPE_BUILD_DIR", REPO / "build"))

    namespace = f"tsbench-py-{os.getpid()}"
    data_dir = tempfile.mkdtemp(prefix="tsbench-py-")
    os.environ.update(TRAINSCOPE_NAMESPACE=namespace, TRAINSCOPE_AUTOSTART="0")
    agent = start_agent(build, namespace, data_dir)
    try:
        r = bench_calls(args.calls)
        if args.trainer:
            r.update(bench_trainer(args.trainer, args.trainer_rounds, build))
    finally:
        agent.terminate()
        agent.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        for leftover in Path("/dev/shm").glob(f"{namespace}.*"):
            leftover.unlink(missing_ok=True)

    for key, value in r.items():
        if not isinstance(value, list):
            print(f"RESULT {key} {value:.4f}")
    floor = r["append_floor_ns"]
    print("Summary (ns per call, the loop included; median over chunks)")
    print(f"  metric.log(step, float)     {r['metric_log_ns']:7.1f} ns  goal <= 300 ns   "
          f"{r['metric_log_ns'] / floor:4.1f}x list.append floor ({floor:.1f} ns), "
          f"{r['json_lines_ns'] / r['metric_log_ns']:4.1f}x faster than JSON lines ({r['json_lines_ns']:.0f} ns)")
    print(f"  run.log(10-key dict)        {r['dict10_log_ns']:7.1f} ns  goal <= 1500 ns  "
          f"{r['json_lines_dict10_ns'] / r['dict10_log_ns']:4.1f}x faster than one JSON line of the dict "
          f"({r['json_lines_dict10_ns']:.0f} ns), {10 * r['json_lines_ns'] / r['dict10_log_ns']:4.1f}x ten")
    print(f"  metric.log(step, tensor)    {r['tensor_log_ns']:7.1f} ns  (a 0-d CPU tensor: .item() inside)")
    print(f"  dropped: {int(r['dropped'])}")
    if "trainer_iter_ms_with" in r:
        print(f"  example trainer iteration   {r['trainer_iter_ms_with']:.2f} ms with Trainscope, "
              f"{r['trainer_iter_ms_without']:.2f} ms without (medians; runs: {r['trainer_iter_ms_with_all']} / "
              f"{r['trainer_iter_ms_without_all']})")


if __name__ == "__main__":
    main()
