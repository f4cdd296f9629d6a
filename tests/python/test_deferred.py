"""Accelerator tensors are never synchronised inside log(): the value is copied without
blocking and logged under its own step once its event completes (on a later log(), or at
flush()/finish()). There is no GPU here: the tests stand in an event object with CUDA's
interface (record, query, synchronize) and treat CPU tensors as device tensors."""
from __future__ import annotations

import pytest
import torch

import trainscope
from trainscope import _values


class StandInEvent:
    """torch.cuda.Event's interface; completes when the test says so (or on synchronize)."""

    made: list["StandInEvent"] = []

    def __init__(self) -> None:
        self.recorded = False
        self.done = False
        self.synchronized = False
        StandInEvent.made.append(self)

    def record(self, stream=None) -> None:
        self.recorded = True

    def query(self) -> bool:
        return self.done

    def synchronize(self) -> None:
        self.synchronized = True
        self.done = True


class DeviceTensor(torch.Tensor):
    """A CPU tensor the SDK must treat as living on an accelerator; .item() is a sync."""

    item_calls = 0

    def item(self):
        DeviceTensor.item_calls += 1
        return super().item()


@pytest.fixture
def device(monkeypatch):
    StandInEvent.made = []
    DeviceTensor.item_calls = 0
    monkeypatch.setattr(_values, "event_factory", StandInEvent)
    monkeypatch.setattr(_values, "is_deferred_device", lambda t: isinstance(t, DeviceTensor))
    yield
    _values.flush()


def on_device(value: float) -> DeviceTensor:
    return torch.tensor(value).as_subclass(DeviceTensor)


def test_log_never_reads_a_device_tensor_and_resolves_it_when_its_event_is_done(agent, device):
    with trainscope.init("deferred") as run:
        loss = run.metric("train/loss")
        loss.log(0, on_device(2.0))
        assert DeviceTensor.item_calls == 0, "log() must not synchronise"
        assert len(StandInEvent.made) == 1 and StandInEvent.made[0].recorded
        assert _values.pending_count() == 1
        loss.log(1, 1.5)            # a later log polls; the event is not done: still waiting
        assert _values.pending_count() == 1
        StandInEvent.made[0].done = True
        run.metric("lr").log(1, 0.1)  # a later log of any metric resolves it
        assert _values.pending_count() == 0
        assert not StandInEvent.made[0].synchronized, "resolved by query(), not by waiting"
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert sorted((p[0], p[2]) for p in agent.series(sid, "train/loss")) == [(0, 2.0), (1, 1.5)]


def test_flush_and_finish_wait_for_every_deferred_value(agent, device):
    run = trainscope.init("flushed")
    loss = run.metric("train/loss")
    for step in range(5):
        loss.log(step, on_device(float(step)))
    run.log({"grad_norm": on_device(9.0)}, step=4)
    assert _values.pending_count() == 6
    run.flush()
    assert _values.pending_count() == 0 and all(e.synchronized for e in StandInEvent.made)
    loss.log(5, on_device(5.0))
    run.finish()
    assert _values.pending_count() == 0, "finish() flushes"
    sid = run.session_id
    agent.wait_status(sid, "finished")
    assert sorted((p[0], p[2]) for p in agent.series(sid, "train/loss")) == [(s, float(s)) for s in range(6)]
    assert [(p[0], p[2]) for p in agent.series(sid, "grad_norm")] == [(4, 9.0)]


def test_sync_true_reads_device_tensors_at_once(agent, device):
    with trainscope.init("eager", sync=True) as run:
        run.metric("x").log(3, on_device(4.0))
        assert _values.pending_count() == 0 and DeviceTensor.item_calls == 1
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert [(p[0], p[2]) for p in agent.series(sid, "x")] == [(3, 4.0)]


def test_a_forked_child_forgets_its_parents_deferred_values(agent, device):
    import os

    with trainscope.init("fork while pending") as run:
        run.metric("x").log(0, on_device(1.0))
        pid = os.fork()
        if pid == 0:
            os._exit(0 if _values.pending_count() == 0 else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert [(p[0], p[2]) for p in agent.series(sid, "x")] == [(0, 1.0)], "logged once, by the parent"
