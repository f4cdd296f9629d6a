"""What a Python trainer logs is what the agent stores: every value type, NaN and Inf, UTF-8
names, steps out of order and missing, run.log(dict) against per-key calls, and refusals."""
from __future__ import annotations

import csv
import fractions
import io
import math

import numpy as np
import pytest
import torch

import trainscope


def export_rows(agent, session_id: str) -> list[dict]:
    with agent.open(f"/api/runs/{session_id}/export.csv") as reply:
        return list(csv.DictReader(io.StringIO(reply.read().decode("utf-8"))))


def steps_values(points: list[list]) -> list[tuple]:
    return sorted((p[0], p[2]) for p in points)


def test_every_value_type_arrives_as_its_float(agent):
    values = [
        ("int", 7, 7.0), ("big int", 2**53 + 1, float(2**53 + 1)), ("float", 0.125, 0.125),
        ("bool", True, 1.0), ("false", False, 0.0),
        ("np.float32", np.float32(0.5), 0.5), ("np.float64", np.float64(1e-300), 1e-300),
        ("np.int64", np.int64(-3), -3.0), ("np.bool_", np.bool_(True), 1.0),
        ("np 0-d array", np.array(2.5), 2.5),
        ("tensor f32", torch.tensor(0.75), 0.75), ("tensor f64", torch.tensor(1 / 3, dtype=torch.float64), 1 / 3),
        ("tensor int", torch.tensor(9), 9.0), ("tensor bool", torch.tensor(True), 1.0),
        ("tensor with grad", (torch.tensor(2.0, requires_grad=True) * 3), 6.0),
        ("tensor bf16", torch.tensor(0.5, dtype=torch.bfloat16), 0.5),
        ("fraction", fractions.Fraction(1, 4), 0.25),
    ]
    with trainscope.init("value types") as run:
        m = run.metric("v")
        for step, (_, value, _) in enumerate(values):
            m.log(step, value)
        sid = run.session_id
    agent.wait_status(sid, "finished")
    got = steps_values(agent.series(sid, "v"))
    assert got == [(step, expected) for step, (_, _, expected) in enumerate(values)]


def test_nan_and_infinities_are_kept(agent):
    with trainscope.init("non-finite") as run:
        m = run.metric("loss")
        m.log(0, 1.0)
        m.log(1, float("nan"))
        m.log(2, float("inf"))
        m.log(3, -math.inf)
        m.log(4, torch.tensor(float("nan")))
        m.log(5, np.float32("inf"))
        sid = run.session_id
    agent.wait_status(sid, "finished")
    # JSON has no NaN: the series answers null; the CSV export tells them apart.
    assert [p[2] for p in sorted(agent.series(sid, "loss"))] == [1.0, None, None, None, None, None]
    exported = [r["value"] for r in sorted(export_rows(agent, sid), key=lambda r: int(r["step"]))]
    assert exported == ["1", "NaN", "Infinity", "-Infinity", "NaN", "Infinity"]


NAMES = [
    "训练损失/验证集上的交叉熵",        # CJK, 36 bytes
    "loss 🔥/gpu🚀",                   # emoji (4-byte characters)
    "re\u0301sume\u0301/loss",           # combining accents
    "a" * 63,                          # exactly the limit
    "ü" * 31,                          # 62 bytes: two-byte characters up to the limit
]


def test_utf8_metric_names_round_trip(agent):
    with trainscope.init("名前 🚀 naïve") as run:
        for i, name in enumerate(NAMES):
            run.metric(name).log(i, float(i))
        sid = run.session_id
    agent.wait_status(sid, "finished")
    stored = agent.run(sid)
    assert stored["name"] == "名前 🚀 naïve"
    assert sorted(stored["metrics"]) == sorted(NAMES)
    for i, name in enumerate(NAMES):
        assert steps_values(agent.series(sid, name)) == [(i, float(i))]
    assert sorted(r["metric"] for r in export_rows(agent, sid)) == sorted(NAMES)


def test_long_run_name_is_cut_on_a_character_boundary(agent):
    name = "模" * 40  # 120 bytes; the SDK keeps 95 bytes: 31 whole characters
    with trainscope.init(name) as run:
        run.metric("x").log(0, 1.0)
        sid = run.session_id
    assert agent.wait_status(sid, "finished")["name"] == "模" * 31


def test_steps_out_of_order_and_missing(agent):
    steps = [10, 3, 7, 1000, 0, 5, -2, 2**40]
    with trainscope.init("steps") as run:
        m = run.metric("s")
        for s in steps:
            m.log(s, s * 0.5)
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert steps_values(agent.series(sid, "s")) == sorted((s, s * 0.5) for s in steps)


def test_run_log_dict_stores_what_per_key_calls_store(agent):
    rows = [
        (0, {"lr": 0.1, "loss": torch.tensor(2.5), "ok": True}),
        (1, {"lr": 0.09, "loss": np.float32(2.25), "tokens": 4096}),
        (5, {"loss": float("nan"), "lr": 0.05}),
        (3, {"lr": 0.07}),
    ]
    with trainscope.init("per key") as a, trainscope.init("by dict") as b:
        for step, values in rows:
            for name, value in values.items():
                a.metric(name).log(step, value)
            b.log(values, step=step)
        ids = a.session_id, b.session_id
    for sid in ids:
        agent.wait_status(sid, "finished")
    names = sorted(agent.run(ids[0])["metrics"])
    assert names == sorted(agent.run(ids[1])["metrics"]) == ["loss", "lr", "ok", "tokens"]
    for name in names:
        per_key, by_dict = (steps_values(agent.series(sid, name)) for sid in ids)
        assert per_key == by_dict, name


def test_step_none_continues_from_the_last_step(agent):
    with trainscope.init("implicit steps") as run:
        run.log({"a": 1})            # no step yet: 0
        run.log({"a": 2})            # 1
        run.metric("b").log(10, 3)   # the latest step is now 10
        run.log({"a": 4})            # 11
        assert run.last_step == 11
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert steps_values(agent.series(sid, "a")) == [(0, 1.0), (1, 2.0), (11, 4.0)]


@pytest.mark.parametrize("value, reason", [
    ("0.5", "builtins.str"), (b"1", "builtins.bytes"), ([1.0], "builtins.list"), (None, "NoneType"),
    (1 + 2j, "complex"), (torch.ones(3), "shape (3,)"), (np.ones(2), "shape (2,)"),
    (np.str_("x"), "dtype <U1"), (torch.tensor(1 + 1j), "complex"),
])
def test_a_value_that_cannot_be_logged_raises_value_error(agent, value, reason):
    with trainscope.init("bad values") as run:
        m = run.metric("x")
        with pytest.raises(ValueError, match="cannot log") as raised:
            m.log(0, value)
        assert reason in str(raised.value)
        with pytest.raises(ValueError, match="'x'"):
            run.log({"x": value}, step=0)


@pytest.mark.parametrize("name, reason", [
    ("", "0 bytes"), ("a" * 64, "64 bytes"), ("模" * 22, "66 bytes"), ("bad\0name", "NUL"),
    ("\ud800", "UTF-8"), (42, "must be a str"),
])
def test_a_name_the_sdk_refuses_raises_value_error(agent, name, reason):
    with trainscope.init("bad names") as run:
        with pytest.raises(ValueError, match=reason):
            run.metric(name)
        with pytest.raises(ValueError, match=reason):
            run.log({name: 1.0}, step=0)


def test_steps_must_be_integers(agent):
    with trainscope.init("bad steps") as run:
        m = run.metric("x")
        for step in (1.5, "3", None, 2**63):
            with pytest.raises(ValueError, match="step"):
                m.log(step, 1.0)
        m.log(np.int64(4), 1.0)       # numpy integers are integers
        m.log(torch.tensor(5), 2.0)   # so are integer 0-d tensors
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert steps_values(agent.series(sid, "x")) == [(4, 1.0), (5, 2.0)]


def test_the_513th_metric_is_refused_with_the_reason(agent):
    with trainscope.init("many metrics") as run:
        for i in range(512):
            run.metric(f"m{i}")
        with pytest.raises(ValueError, match="more than 512"):
            run.metric("one too many")


def test_config_and_events_arrive(agent):
    config = {"lr": 3e-4, "betas": (0.9, 0.95), "nested": {"n_layer": 4}, "bad": float("nan"), "名": "値"}
    with trainscope.init("config", config=config) as run:
        assert run.event("checkpoint", "saved ckpt.pt at step 0 ✓")
        sid = run.session_id
    stored = agent.wait_status(sid, "finished")
    assert stored["config"] == {"lr": 3e-4, "betas": [0.9, 0.95], "nested": {"n_layer": 4}, "bad": "nan", "名": "値"}
    events = agent.get_json(f"/api/runs/{sid}/events")["events"]
    assert any(e["kind"] == "checkpoint" and e["text"] == "saved ckpt.pt at step 0 ✓" for e in events)
