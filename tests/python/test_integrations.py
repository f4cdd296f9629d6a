"""The Lightning, transformers and accelerate integrations against a real agent.

The frameworks cannot be installed here: their stand-ins (tests/python/standins/, see its
README) keep the real base classes and replay each framework's call order, and these tests
drive the integrations through them. What reaches the agent is read back through REST: the
steps and values, the config, the model's diagram, the status at the end.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from argparse import Namespace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from conftest import PACKAGE_DIR, PYTHON

STANDINS = Path(__file__).resolve().parent / "standins"
sys.path.insert(0, str(STANDINS))  # `import lightning` etc. find the stand-ins

from accelerate import Accelerator  # noqa: E402
from lightning.fabric.loggers.logger import _DummyExperiment  # noqa: E402
from lightning.pytorch import LightningModule, Trainer  # noqa: E402
from lightning.pytorch.utilities import rank_zero_only  # noqa: E402
from transformers import PretrainedConfig, TrainerCallback, TrainingArguments  # noqa: E402
from transformers import Trainer as HFTrainer  # noqa: E402

from trainscope.integrations.accelerate import TrainscopeTracker  # noqa: E402
from trainscope.integrations.huggingface import TrainscopeCallback, metric_name  # noqa: E402
from trainscope.integrations.lightning import TrainscopeLogger  # noqa: E402


def values(agent, session_id: str, metric: str) -> dict:
    """{step: value} of a stored series."""
    return {p[0]: p[2] for p in agent.series(session_id, metric)}


def run_named(agent, name: str) -> dict:
    return agent.wait_for(lambda: next((r for r in agent.runs() if r["name"] == name), None),
                          what=f"a run named {name!r}")


def segments(agent) -> list[Path]:
    """The shared-memory segments of the agent's namespace (runs started, not yet drained)."""
    return list(Path("/dev/shm").glob(f"{agent.namespace}.*"))


def regression_data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, generator=generator) * 2 - 1
    return x, 3 * x + 1 + 0.1 * torch.randn(n, 1, generator=generator)


def small_net() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))


# --- Lightning ------------------------------------------------------------------------------


class Regression(LightningModule):
    def __init__(self, lr: float = 0.05, optim: dict | None = None, data: Namespace | None = None,
                 fail_at: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["fail_at"])
        self.net = small_net()
        self.fail_at = fail_at
        self.losses: list[float] = []  # every training step's loss, in order

    def training_step(self, batch, batch_idx):
        if len(self.losses) == self.fail_at:
            raise RuntimeError("diverged")
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        self.losses.append(loss.item())
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams["lr"])


def batches() -> DataLoader:
    return DataLoader(TensorDataset(*regression_data()), batch_size=8)  # 8 batches an epoch


def test_lightning_fit_logs_every_nth_step_with_config_and_model(agent):
    model = Regression(lr=0.05, optim={"name": "sgd", "momentum": (0.9, 0.99)}, data=Namespace(n=64, noise=0.1))
    logger = TrainscopeLogger("lit-fit")
    Trainer(logger=logger, max_steps=20, log_every_n_steps=5).fit(model, batches())

    sid = logger.version
    run = agent.wait_status(sid, "finished")
    assert run["name"] == "lit-fit"
    # Lightning logs every 5th batch, at the count of batches stepped before it.
    assert values(agent, sid, "train/loss") == {step: model.losses[step] for step in (4, 9, 14, 19)}
    assert values(agent, sid, "epoch") == {4: 0, 9: 1, 14: 1, 19: 2}
    assert run["config"] == {"lr": 0.05, "optim": {"name": "sgd", "momentum": [0.9, 0.99]},
                             "data": {"n": 64, "noise": 0.1}}
    info = agent.get_json(f"/api/model-info?session={sid}")
    assert info["total_params"] == sum(p.numel() for p in model.parameters())


def test_lightning_fit_that_raises_ends_the_run_failed_with_its_points(agent):
    model = Regression(fail_at=7)
    logger = TrainscopeLogger("lit-fail")
    with pytest.raises(RuntimeError, match="diverged"):
        Trainer(logger=logger, max_steps=20, log_every_n_steps=5).fit(model, batches())

    agent.wait_status(logger.version, "failed")
    assert values(agent, logger.version, "train/loss") == {4: model.losses[4]}


def test_lightning_logger_on_other_ranks_starts_no_run(agent, monkeypatch):
    monkeypatch.setattr(rank_zero_only, "rank", 1)  # what Lightning's strategy sets on rank 1
    logger = TrainscopeLogger("lit-rank1")
    Trainer(logger=logger, max_steps=10, log_every_n_steps=5).fit(Regression(), batches())

    assert isinstance(logger.experiment, _DummyExperiment)
    assert logger.version is None
    assert segments(agent) == []


def test_lightning_logger_continues_its_session_after_finalize(agent):
    # fit() then test() with one logger: Lightning finalizes after each.
    logger = TrainscopeLogger("lit-twice")
    logger.log_hyperparams({"lr": 0.1})
    logger.log_metrics({"train/loss": 1.0}, step=0)
    logger.finalize("success")
    sid = logger.version
    agent.wait_status(sid, "finished")

    logger.log_metrics({"test/loss": 0.5}, step=1)
    assert logger.version == sid
    logger.finalize("success")
    agent.wait_for(lambda: values(agent, sid, "test/loss") == {1: 0.5}, what="the second fit's point")
    run = agent.wait_status(sid, "finished")
    assert values(agent, sid, "train/loss") == {0: 1.0}
    assert run["config"] == {"lr": 0.1}


def test_lightning_logger_pickles_without_its_run_and_the_copy_joins_the_session(agent):
    logger = TrainscopeLogger("lit-pickle")
    logger.log_metrics({"loss": 1.0}, step=0)
    copy = pickle.loads(pickle.dumps(logger))  # as a spawning strategy sends it to a worker
    assert copy.version == logger.version

    copy.log_metrics({"loss": 2.0}, step=1)
    copy.finalize("success")
    logger.finalize("success")
    agent.wait_status(logger.version, "finished")
    assert values(agent, logger.version, "loss") == {0: 1.0, 1: 2.0}


# --- transformers ---------------------------------------------------------------------------


class TinyRegressor(nn.Module):
    """A model as transformers' Trainer expects it: forward(**batch) -> {"loss": ...}, a config."""

    def __init__(self) -> None:
        super().__init__()
        self.config = PretrainedConfig(model_type="tiny-regressor", hidden_size=8)
        self.net = small_net()

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict:
        return {"loss": F.mse_loss(self.net(x), labels)}


class RegressionSet(Dataset):
    def __init__(self, n: int) -> None:
        self.x, self.y = regression_data(n)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"x": self.x[i], "labels": self.y[i]}


def hf_trainer(tmp_path: Path, callbacks: list, run_name: str) -> HFTrainer:
    args = TrainingArguments(output_dir=str(tmp_path), run_name=run_name, learning_rate=0.05, max_steps=12,
                             logging_steps=4, eval_strategy="steps", eval_steps=6, per_device_train_batch_size=8)
    return HFTrainer(model=TinyRegressor(), args=args, train_dataset=RegressionSet(64),
                     eval_dataset=RegressionSet(16), callbacks=callbacks)


def test_huggingface_trainer_logs_at_global_steps_with_config_and_model(agent, tmp_path):
    trainer = hf_trainer(tmp_path, [TrainscopeCallback()], run_name="hf-train")
    trainer.train()

    sid = run_named(agent, "hf-train")["session_id"]
    run = agent.wait_status(sid, "finished")

    def logged(key: str) -> dict:  # what the Trainer logged, by global step
        return {entry["step"]: entry[key] for entry in trainer.state.log_history if key in entry}

    assert sorted(logged("loss")) == [4, 8, 12] and sorted(logged("eval_loss")) == [6, 12]
    assert values(agent, sid, "train/loss") == logged("loss")
    assert values(agent, sid, "val/loss") == logged("eval_loss")
    assert values(agent, sid, "lr") == logged("learning_rate")
    assert values(agent, sid, "grad_norm") == logged("grad_norm")
    assert values(agent, sid, "summary/train_loss") == logged("train_loss")
    assert run["config"]["learning_rate"] == 0.05 and run["config"]["max_steps"] == 12
    assert run["config"]["model_config"] == {"model_type": "tiny-regressor", "hidden_size": 8}
    info = agent.get_json(f"/api/model-info?session={sid}")
    assert info["total_params"] == sum(p.numel() for p in trainer.model.parameters())


def test_huggingface_metric_names_follow_the_dashboard():
    assert [metric_name(k) for k in ("loss", "eval_loss", "eval_accuracy", "test_f1", "learning_rate",
                                     "train_loss", "total_flos", "grad_norm", "epoch", "my_metric")] == [
        "train/loss", "val/loss", "val/accuracy", "test/f1", "lr",
        "summary/train_loss", "summary/total_flos", "grad_norm", "epoch", "my_metric"]


def test_huggingface_evaluate_outside_train_gets_a_run_of_its_own(agent, tmp_path):
    trainer = hf_trainer(tmp_path, [TrainscopeCallback()], run_name="hf-eval")
    before = trainer.evaluate()
    trainer.train()

    def both_finished() -> list | None:
        runs = [r for r in agent.runs() if r["name"] == "hf-eval"]
        return runs if len(runs) == 2 and all(r["status"] == "finished" for r in runs) else None

    val_loss = [values(agent, r["session_id"], "val/loss") for r in agent.wait_for(both_finished)]
    assert sorted(sorted(series) for series in val_loss) == [[0], [6, 12]]
    assert {0: before["eval_loss"]} in val_loss


class RunsSeen(TrainerCallback):
    """Notes, at each on_log, which run a TrainscopeCallback is logging to."""

    def __init__(self, watched: TrainscopeCallback) -> None:
        self.watched = watched
        self.runs: list = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.runs.append(self.watched.run)


def test_huggingface_callback_logs_on_world_process_zero_only(agent, monkeypatch, tmp_path):
    monkeypatch.setenv("RANK", "1")  # the Trainer's process_index under torchrun
    callback = TrainscopeCallback()
    seen = RunsSeen(callback)
    hf_trainer(tmp_path, [callback, seen], run_name="hf-rank1").train()

    assert seen.runs == [None] * 6  # 3 train logs, 2 evaluations, the summary
    assert segments(agent) == []


def test_huggingface_training_that_raises_ends_the_run_failed(agent, tmp_path):
    # The Trainer has no failure event: the uncaught exception fails the run as the program ends.
    child = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_integrations import TrainscopeCallback, hf_trainer

        trainer = hf_trainer(Path({str(tmp_path)!r}), [TrainscopeCallback()], run_name="hf-fail")
        forward = trainer.model.forward
        def diverging(x, labels):
            if trainer.state.global_step == 9:
                raise FloatingPointError("loss is nan")
            return forward(x, labels)
        trainer.model.forward = diverging
        trainer.train()
    """)
    done = subprocess.run([PYTHON, "-c", child], env=agent.env(), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "FloatingPointError: loss is nan" in done.stderr

    sid = run_named(agent, "hf-fail")["session_id"]
    agent.wait_status(sid, "failed")
    assert sorted(values(agent, sid, "train/loss")) == [4, 8]


# --- accelerate -----------------------------------------------------------------------------


def test_accelerate_tracker_logs_config_values_and_events(agent):
    accelerator = Accelerator(log_with=TrainscopeTracker("acc-run"))
    accelerator.init_trackers("project", config={"lr": 0.05, "schedule": {"warmup": 2}, "args": Namespace(seed=1)})
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer = accelerator.prepare(model, optimizer)
    x, y = regression_data()
    losses, grad_norms = {}, {}
    for step in range(10):
        loss = F.mse_loss(model(x), y)
        accelerator.backward(loss)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        optimizer.zero_grad()
        # A 0-d tensor, a float and a nested dict, as accelerate users log them.
        accelerator.log({"train/loss": loss.detach(), "lr": 0.05, "stats": {"grad_norm": grad_norm}}, step=step)
        losses[step], grad_norms[step] = loss.item(), grad_norm.item()
    accelerator.log({"note": "checkpoint saved"}, step=9)
    sid = accelerator.get_tracker("trainscope", unwrap=True).session_id
    accelerator.end_training()

    run = agent.wait_status(sid, "finished")
    assert run["name"] == "acc-run"
    assert values(agent, sid, "train/loss") == losses
    assert values(agent, sid, "stats/grad_norm") == grad_norms
    assert values(agent, sid, "lr") == {step: 0.05 for step in range(10)}
    assert run["config"] == {"lr": 0.05, "schedule": {"warmup": 2}, "args": {"seed": 1}}
    events = agent.get_json(f"/api/runs/{sid}/events")["events"]
    assert [(e["kind"], e["text"]) for e in events] == [("note", "checkpoint saved")]


def test_accelerate_tracker_on_other_processes_starts_no_run(agent, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    tracker = TrainscopeTracker("acc-rank1")
    accelerator = Accelerator(log_with=tracker)
    accelerator.init_trackers("project", config={"lr": 0.05})
    accelerator.log({"train/loss": 1.0}, step=0)
    tracker.log({"train/loss": 1.0}, step=0)  # the tracker keeps to the main process by itself too

    assert tracker.tracker is None
    assert segments(agent) == []  # checked before end_training, which would end (and drain) a run
    accelerator.end_training()


# --- without the frameworks -----------------------------------------------------------------

# Run in a child whose import system reports the frameworks as not installed (they are not
# installed here; this keeps the test meaningful where they are).
_WITHOUT_FRAMEWORKS = """
import sys
class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("lightning", "pytorch_lightning", "transformers", "accelerate"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NotInstalled())
import trainscope.integrations
"""


@pytest.mark.parametrize("module, package", [("lightning", "lightning"), ("huggingface", "transformers"),
                                             ("accelerate", "accelerate")])
def test_an_integration_without_its_framework_says_what_to_install(module, package):
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_DIR))
    code = _WITHOUT_FRAMEWORKS + f"import trainscope.integrations.{module}\n"
    done = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    last_line = done.stderr.strip().splitlines()[-1]
    assert done.returncode != 0
    assert last_line.startswith(f"ImportError: trainscope.integrations.{module} needs ")
    assert last_line.endswith(f"pip install {package}")
