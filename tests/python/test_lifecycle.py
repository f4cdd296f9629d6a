"""How a Python run ends: finished, failed (an exception in `with`, an uncaught one, or
finish("failed")), crashed (SIGKILL: its points are kept), and at interpreter exit."""
from __future__ import annotations

import signal

import pytest

import trainscope
from trainer_process import Trainer


def test_sigkilled_trainer_reads_crashed_and_keeps_its_points(agent):
    trainer = Trainer(agent, """
        import sys, time, trainscope
        run = trainscope.init("to be killed")
        loss = run.metric("train/loss")
        for step in range(5000):
            loss.log(step, 1.0 / (step + 1))
        print("session", run.session_id, flush=True)
        time.sleep(600)
    """)
    try:
        sid = trainer.read_line("session ")
        agent.wait_points(sid, 5000)
        trainer.process.send_signal(signal.SIGKILL)
        trainer.wait()
        agent.wait_status(sid, "crashed")
    finally:
        trainer.kill()
    points = agent.series(sid, "train/loss")
    assert [p[0] for p in points] == list(range(5000))
    assert points[4999][2] == pytest.approx(1 / 5000)


def test_exception_inside_with_marks_failed_and_is_reraised(agent):
    with pytest.raises(RuntimeError, match="loss exploded"):
        with trainscope.init("raises") as run:
            run.metric("train/loss").log(0, 1.0)
            sid = run.session_id
            raise RuntimeError("loss exploded")
    assert run.status == "failed"
    agent.wait_status(sid, "failed")
    assert [p[2] for p in agent.series(sid, "train/loss")] == [1.0]


def test_clean_with_block_finishes(agent):
    with trainscope.init("clean") as run:
        run.log({"a": 1.0})
        sid = run.session_id
    agent.wait_status(sid, "finished")
    assert [p[2] for p in agent.series(sid, "a")] == [1.0]


def test_first_end_wins_and_status_is_checked(agent):
    run = trainscope.init("explicit")
    with pytest.raises(ValueError, match="status"):
        run.finish("crashed")
    run.finish(status="failed")
    run.finish()  # too late: already failed
    assert agent.wait_status(run.session_id, "failed")


def test_uncaught_exception_without_with_marks_failed(agent):
    trainer = Trainer(agent, """
        import trainscope
        run = trainscope.init("uncaught")
        run.metric("x").log(0, 1.0)
        print("session", run.session_id, flush=True)
        raise SystemError("boom")
    """)
    sid = trainer.read_line("session ")
    assert trainer.wait() != 0
    assert "SystemError: boom" in trainer.stderr(), "the original traceback is still printed"
    assert agent.wait_status(sid, "failed")


def test_a_script_that_just_ends_is_finished_at_exit(agent):
    trainer = Trainer(agent, """
        import trainscope
        run = trainscope.init("atexit")
        run.metric("x").log(0, 1.0)
        print("session", run.session_id, flush=True)
    """)
    sid = trainer.read_line("session ")
    assert trainer.wait() == 0
    agent.wait_status(sid, "finished")
    assert [p[2] for p in agent.series(sid, "x")] == [1.0]


def test_one_failed_rank_fails_the_run(agent):
    finished = trainscope.init("two ranks", run_id="job-one-failed", rank=0)
    failed = trainscope.init("two ranks", run_id="job-one-failed", rank=1)
    finished.metric("x").log(0, 1.0)
    failed.metric("x").log(0, 2.0)
    failed.finish("failed")
    finished.finish()
    assert agent.wait_status("job-one-failed", "failed")["ranks"] == [0, 1]
