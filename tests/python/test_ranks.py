"""Which run and rank a Python process logs under: run_id=, TRAINSCOPE_RUN_ID, torchrun's
TORCHELASTIC_RUN_ID and RANK / LOCAL_RANK; ranks="zero" silences the other ranks."""
from __future__ import annotations

import pytest

import trainscope


def test_explicit_run_id_and_rank(agent):
    with trainscope.init("explicit", run_id="my-job.1", rank=3) as run:
        assert (run.session_id, run.rank) == ("my-job.1", 3)
        run.metric("x").log(0, 1.0)
    assert agent.wait_status("my-job.1", "finished")["ranks"] == [3]


def test_rank_from_rank_else_local_rank(agent, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert trainscope.init("local", autostart=False).rank == 2
    monkeypatch.setenv("RANK", "5")
    assert trainscope.init("global", autostart=False).rank == 5
    monkeypatch.setenv("RANK", "five")
    with pytest.raises(ValueError, match="RANK='five'"):
        trainscope.init("bad rank")


def test_job_id_from_the_environment(agent, monkeypatch):
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "elastic-7")
    assert trainscope.init("torchrun").session_id == "elastic-7"
    monkeypatch.setenv("TRAINSCOPE_RUN_ID", "ours-7")
    assert trainscope.init("ours").session_id == "ours-7", "TRAINSCOPE_RUN_ID comes first"
    assert trainscope.init("arg", run_id="arg-7").session_id == "arg-7", "run_id= comes first"


def test_torchrun_none_means_a_fresh_id(agent, monkeypatch):
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "none")
    a, b = trainscope.init("a"), trainscope.init("b")
    assert a.session_id != b.session_id and len(a.session_id) == 26


def test_ranks_zero_makes_other_ranks_no_ops(agent, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    with trainscope.init("quiet rank", config={"a": 1}, run_id="zero-only", ranks="zero") as quiet:
        assert not quiet.active and quiet.session_id == ""
        quiet.metric("x").log(0, 1.0)
        quiet.log({"y": 2.0})
        quiet.event("checkpoint", "nothing")
        quiet.set_model_info({"tree": {"name": "m", "type": "M"}})
    with trainscope.init("loud rank", run_id="zero-only", ranks="zero", rank=0) as loud:
        assert loud.active
        loud.metric("x").log(0, 1.0)
    run = agent.wait_status("zero-only", "finished")
    assert run["ranks"] == [0]


@pytest.mark.parametrize("kwargs, message", [
    ({"run_id": "has space"}, "run_id"), ({"run_id": "x" * 32}, "run_id"), ({"rank": -1}, "rank"),
    ({"ranks": "first"}, "ranks"), ({"overflow": "wait"}, "overflow"), ({"capacity": 0}, "capacity"),
    ({"config": 42}, "config"),
])
def test_bad_options_raise_value_error(agent, kwargs, message):
    with pytest.raises(ValueError, match=message):
        trainscope.init("bad", **kwargs)


def test_a_name_is_required(agent):
    for name in ("", None, 3):
        with pytest.raises(ValueError, match="name"):
            trainscope.init(name)
