"""Python trainers that fork or spawn: DataLoader workers, a forked child that tries to end
its parent's run, and a real two-rank DDP job (torch.multiprocessing.spawn, gloo)."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import trainscope
from trainer_process import Trainer

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def run_script(agent, script: str, *args: str, **env: str) -> Trainer:
    return Trainer(agent, f"""
        import runpy, sys
        sys.argv = [{str(SCRIPTS / script)!r}] + {list(args)!r}
        runpy.run_path(sys.argv[0], run_name="__main__")
    """, **env)


def test_dataloader_workers_that_log_neither_deadlock_nor_lose_the_parents_points(agent):
    items, epochs = 64, 3
    trainer = run_script(agent, "dataloader_trainer.py", str(items), str(epochs))
    try:
        sid = trainer.read_line("session ")
        assert trainer.read_line("steps ") == str(items // 4 * epochs)
        trainer.read_line("done")
        assert trainer.wait(timeout=120) == 0, trainer.stderr()
    finally:
        trainer.kill()
    run = agent.wait_status(sid, "finished")
    assert run["dropped"] == 0
    steps = agent.series(sid, "train/step")
    assert [p[0] for p in steps] == list(range(items // 4 * epochs)), "every parent point, once"
    assert [p[2] for p in steps[: items // 4]] == [float(4 * i * 4 + 6) for i in range(items // 4)]
    # The workers' points land in the same run: every item of every epoch.
    loaded = sorted(p[0] for p in agent.series(sid, "data/item"))
    assert loaded == sorted(list(range(items)) * epochs)


def test_a_forked_child_cannot_finish_its_parents_run(agent):
    with trainscope.init("forking parent") as run:
        m = run.metric("x")
        m.log(0, 1.0)
        pid = os.fork()
        if pid == 0:  # the child: logs, tries to end the run, exits through atexit too
            try:
                m.log(1, 2.0)
                run.finish()
                run.finish("failed")
            finally:
                os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        sid = run.session_id
        agent.wait_for(lambda: len(agent.series(sid, "x")) == 2, what="the child's point")
        assert agent.run(sid)["status"] == "running"
        m.log(2, 3.0)
    agent.wait_status(sid, "finished")
    assert [(p[0], p[2]) for p in agent.series(sid, "x")] == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_a_child_exiting_normally_does_not_end_the_run(agent):
    # sys.exit in a forked child runs the inherited atexit handlers: they must not finish.
    trainer = Trainer(agent, """
        import os, sys, time, trainscope
        run = trainscope.init("parent with exiting child")
        run.metric("x").log(0, 1.0)
        pid = os.fork()
        if pid == 0:
            sys.exit(0)
        os.waitpid(pid, 0)
        print("session", run.session_id, flush=True)
        time.sleep(600)
    """)
    try:
        sid = trainer.read_line("session ")
        agent.wait_for(lambda: agent.series(sid, "x"), what="the parent's point")
        assert agent.run(sid)["status"] == "running"
    finally:
        trainer.kill()
    agent.wait_status(sid, "crashed")  # SIGKILLed parent: crashed, not finished by its child


def test_two_ddp_ranks_log_into_one_run(agent):
    job = str(uuid.uuid4())  # torchrun --standalone names its job with a UUID
    steps = 20
    with tempfile.TemporaryDirectory() as out:
        trainer = run_script(agent, "ddp_trainer.py", out, str(steps), TORCHELASTIC_RUN_ID=job)
        try:
            assert trainer.wait(timeout=300) == 0, trainer.stderr()
        finally:
            trainer.kill()
        lines = [(Path(out) / f"rank{r}.txt").read_text().split() for r in (0, 1)]
    sids = {line[0] for line in lines}
    assert len(sids) == 1, f"both ranks share one run: {sids}"
    sid = sids.pop()
    assert sid.startswith("job-")
    assert [line[1] for line in lines] == ["0", "1"]
    assert lines[0][2:] == lines[1][2:], "DDP kept the ranks' weights equal"
    run = agent.wait_status(sid, "finished", timeout=60)
    assert run["ranks"] == [0, 1]
    assert sum(r["session_id"] == sid for r in agent.runs()) == 1
    for rank in (0, 1):
        loss = agent.series(sid, "train/loss", rank=rank)
        assert [p[0] for p in loss] == list(range(steps))
        assert all(p[2] is not None and p[2] >= 0 for p in loss)
        assert {p[2] for p in agent.series(sid, "rank_marker", rank=rank)} == {float(rank)}
    assert agent.status_of(f"/api/model-info?session={sid}") == 200

