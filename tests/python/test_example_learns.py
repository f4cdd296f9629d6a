"""The PyTorch example (sdk/examples/python/train_gpt.py) as a user runs it: a real child
process with real torch, logging through shared memory to a real agent. Its loss must fall,
and the run must carry every metric the C++ example logs, with the same meaning."""
from __future__ import annotations

import math
import re
import signal
import statistics
import subprocess
import sys

import pytest
from conftest import PYTHON, REPO

EXAMPLE_DIR = REPO / "sdk" / "examples" / "python"
ITERS = 300
BATCH, BLOCK = 8, 32
LEARNING_RATE, MIN_LR, WARMUP = 3e-3, 1e-4, 100
GRAD_CLIP = 0.25  # below most raw gradient norms here, so clipping visibly happens (AdamW barely minds)
# Small enough for a few seconds on one core even with Debian's reference BLAS; large enough
# to learn the GPL's character statistics well within 300 iterations.
SMALL_CONFIG = [
    "--n_layer", "2", "--n_head", "2", "--n_embd", "32",
    "--block_size", str(BLOCK), "--batch_size", str(BATCH),
    "--learning_rate", str(LEARNING_RATE), "--min_lr", str(MIN_LR),
    "--warmup_iters", str(WARMUP), "--grad_clip", str(GRAD_CLIP), "--max_iters", str(ITERS),
    "--eval_interval", "100", "--eval_iters", "5", "--log_interval", "50",
    "--threads", "1", "--seed", "7",
]
PER_STEP = ("train/loss", "lr", "iter_ms", "tokens_per_s", "grad_norm")
PER_EVAL = ("val/loss", "train_eval/loss")


def run_example(agent, *flags: str) -> tuple[str, str]:
    """Runs the example to the end; returns its session id and its output."""
    proc = subprocess.run([PYTHON, str(EXAMPLE_DIR / "train_gpt.py"), *flags],
                          env=agent.env(), capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    found = re.search(r"^trainscope: run '[^']*', session (\S+)$", proc.stdout, re.MULTILINE)
    assert found, output
    return found.group(1), output


def values(agent, session: str, metric: str, count: int) -> tuple[list[int], list[float]]:
    """Steps and values of a series, once all `count` points are stored."""
    points = agent.wait_for(lambda: (p := agent.series(session, metric)) and len(p) >= count and p,
                            what=f"{count} points of {metric}")
    return [p[0] for p in points], [p[2] for p in points]


def test_example_learns_and_logs_what_the_cpp_example_logs(agent) -> None:
    session, output = run_example(agent, *SMALL_CONFIG, "--name", "example-learns")
    run = agent.wait_status(session, "finished")
    assert run["name"] == "example-learns"
    assert set(PER_STEP + PER_EVAL) <= set(run["metrics"]), run["metrics"]
    assert run["dropped"] == 0

    for metric in PER_STEP:
        steps, _ = values(agent, session, metric, ITERS)
        assert steps == list(range(ITERS)), metric
    for metric in PER_EVAL:  # at 0, every eval_interval, and at the end
        steps, _ = values(agent, session, metric, 4)
        assert steps == [0, 100, 200, 300], metric

    _, loss = values(agent, session, "train/loss", ITERS)
    first, last = statistics.mean(loss[:20]), statistics.mean(loss[-20:])
    assert last <= 0.75 * first, f"train/loss fell only from {first:.3f} to {last:.3f}\n{output}"
    assert abs(first - math.log(76)) < 0.3  # starts near chance over the GPL's 76 characters

    _, val = values(agent, session, "val/loss", 4)
    assert val[-1] < val[0]

    # The same units as the C++ example: iter_ms in milliseconds, tokens_per_s from it.
    _, iter_ms = values(agent, session, "iter_ms", ITERS)
    _, tokens_per_s = values(agent, session, "tokens_per_s", ITERS)
    assert all(ms > 0 for ms in iter_ms)
    for ms, rate in zip(iter_ms, tokens_per_s):
        assert rate * ms / 1000.0 == pytest.approx(BATCH * BLOCK)

    # nanoGPT's schedule: linear warmup, then cosine decay towards min_lr.
    _, lr = values(agent, session, "lr", ITERS)
    assert lr[0] == pytest.approx(LEARNING_RATE / (WARMUP + 1))
    assert max(lr) == pytest.approx(LEARNING_RATE)
    assert lr.index(max(lr)) == WARMUP
    assert lr[-1] == pytest.approx(MIN_LR, rel=1e-2)

    _, grad_norm = values(agent, session, "grad_norm", ITERS)
    assert all(math.isfinite(g) and g > 0 for g in grad_norm)
    assert max(grad_norm) > GRAD_CLIP  # measured before clipping, as the C++ example does

    # The config the run was started with, and the model view from run.watch(model).
    assert run["config"]["n_embd"] == 32 and run["config"]["max_iters"] == ITERS
    assert run["config"]["vocab_size"] == 76
    info = agent.get_json(f"/api/model-info?session={session}")
    assert info["tree"]["type"] == "GPT"
    assert info["total_params"] == _expected_params(vocab=76)


def _expected_params(vocab: int) -> int:
    """Parameters of the example's GPT at SMALL_CONFIG, the tied wte/lm_head matrix once."""
    sys.path.insert(0, str(EXAMPLE_DIR))
    try:
        from gpt_model import GPT, GPTConfig
    finally:
        sys.path.remove(str(EXAMPLE_DIR))
    model = GPT(GPTConfig(vocab_size=vocab, block_size=BLOCK, n_layer=2, n_head=2, n_embd=32))
    return sum(p.numel() for p in model.parameters())


def test_ctrl_c_stops_after_the_step_evaluates_and_finishes_the_run(agent, tmp_path) -> None:
    out = tmp_path / "train.out"
    with open(out, "w") as sink:
        proc = subprocess.Popen([PYTHON, str(EXAMPLE_DIR / "train_gpt.py"), *SMALL_CONFIG,
                                 "--max_iters", "1000000", "--name", "interrupted"],
                                env=agent.env(), stdout=sink, stderr=subprocess.STDOUT)
    try:
        session = agent.wait_for(lambda: re.search(r"session (\S+)", out.read_text()),
                                 timeout=60, what="the session line").group(1)
        agent.wait_for(lambda: len(agent.series(session, "train/loss")) >= 20, timeout=60,
                       what="20 training steps")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    agent.wait_status(session, "finished")
    iters = int(re.search(r"^interrupted after (\d+) iterations", out.read_text(), re.MULTILINE)
                .group(1))
    steps, _ = values(agent, session, "train/loss", iters)
    assert steps == list(range(iters))
    # Evaluations at 0 and every 100 iterations, then the final one under the next step's number.
    expected = list(range(0, iters, 100)) + [iters]
    val_steps, _ = values(agent, session, "val/loss", len(expected))
    assert val_steps == expected
    events = agent.get_json(f"/api/runs/{session}/events")["events"]
    assert [e["kind"] for e in events] == ["start", "interrupted"]
