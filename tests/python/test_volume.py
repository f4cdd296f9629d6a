"""Many points from Python arrive exactly once with their values, read back through REST."""
from __future__ import annotations

import trainscope

STEPS = 50_000
METRICS = ["train/loss", "val/loss", "lr", "grad_norm"]


def expected(metric_index: int, step: int) -> float:
    return step * (metric_index + 1) + 0.25  # exact in a double; distinct per metric


def test_four_metrics_by_fifty_thousand_steps_arrive_exactly_once(agent):
    # block: the test logs faster than any trainer; waiting for room keeps every point.
    with trainscope.init("volume", overflow="block") as run:
        handles = [run.metric(name) for name in METRICS]
        for step in range(STEPS):
            for i, m in enumerate(handles):
                m.log(step, expected(i, step))
        sid = run.session_id
        assert run.dropped == 0
    agent.wait_status(sid, "finished", timeout=60)
    for i, name in enumerate(METRICS):
        points = agent.series(sid, name)
        assert len(points) == STEPS, name
        assert [p[0] for p in points] == list(range(STEPS)), f"{name}: every step once, in order"
        wrong = [(p[0], p[2]) for p in points if p[2] != expected(i, p[0])]
        assert not wrong, f"{name}: {wrong[:5]}"


def test_run_log_dicts_at_volume_with_the_default_policy_account_for_every_point(agent):
    # The default never blocks: what the ring could not hold is dropped and counted, never
    # lost silently. Stored + dropped must be exactly what was logged.
    with trainscope.init("volume by dict", capacity=1 << 12) as run:
        for step in range(STEPS):
            run.log({name: expected(i, step) for i, name in enumerate(METRICS)}, step=step)
        sid = run.session_id
        dropped = run.dropped
    stored_run = agent.wait_status(sid, "finished", timeout=60)
    assert stored_run["dropped"] == dropped
    stored = 0
    for i, name in enumerate(METRICS):
        points = agent.series(sid, name) if name in stored_run["metrics"] else []
        steps = [p[0] for p in points]
        assert len(steps) == len(set(steps)), f"{name}: no point twice"
        assert all(p[2] == expected(i, p[0]) for p in points), name
        stored += len(points)
    assert stored + dropped == STEPS * len(METRICS)
