"""Trainscope as a transformers callback: ``Trainer(..., callbacks=[TrainscopeCallback()])``.

Each ``Trainer.train()`` is one run (an ``evaluate()`` outside it gets one of its own):
``on_train_begin`` starts it with the ``TrainingArguments`` (and the model's config under
``"model_config"``) as its config and the model as its diagram; ``on_log`` logs the numeric
entries at ``state.global_step``; ``on_train_end`` finishes it. Like transformers' own
reporting callbacks it acts on the world process zero only (``state.is_world_process_zero``):
the Trainer's logs are already averaged over every process there.

Metric names follow the dashboard's: ``loss`` -> ``train/loss``, ``eval_<x>`` ->
``val/<x>`` (so ``eval_loss`` -> ``val/loss``), ``test_<x>`` -> ``test/<x>``,
``learning_rate`` -> ``lr``; the end-of-training summary (``train_loss``,
``train_runtime``, ``train_samples_per_second``, ``train_steps_per_second``,
``total_flos``) goes under ``summary/`` so that the mean ``train_loss`` is not drawn on the
loss curve; every other key (``grad_norm``, ``epoch``, your own) keeps its name.
"""

from __future__ import annotations

from typing import Any, Optional

from ._framework import is_missing, missing_framework

try:
    from transformers import TrainerCallback
except ModuleNotFoundError as error:
    if not is_missing(error, "transformers"):
        raise
    raise missing_framework("trainscope.integrations.huggingface", "transformers", "transformers") from None

import trainscope

from ._convert import config_dict, split_values

_RENAMED = {"loss": "train/loss", "learning_rate": "lr"}
_SUMMARY = {"train_loss", "train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos"}


def metric_name(key: str) -> str:
    """The Trainscope metric name of a key of the Trainer's logs."""
    if key in _RENAMED:
        return _RENAMED[key]
    if key in _SUMMARY:
        return "summary/" + key
    if key.startswith("eval_"):
        return "val/" + key[len("eval_"):]
    if key.startswith("test_"):
        return "test/" + key[len("test_"):]
    return key


class TrainscopeCallback(TrainerCallback):
    """A transformers ``TrainerCallback`` that logs into a Trainscope run.

    Args:
        name: the run's name (default: the trial name in a hyper-parameter search, else
            ``args.run_name``, else "huggingface").
        watch: send the model's layer tree when the run starts.
        **init_kwargs: passed on to ``trainscope.init`` (``run_id``, ``rank``, ``autostart``, ``sync``).
    """

    def __init__(self, name: Optional[str] = None, *, watch: bool = True, **init_kwargs: Any) -> None:
        self._name = name
        self._watch = watch
        self._init_kwargs = init_kwargs
        self._run: Optional[trainscope.Run] = None

    @property
    def run(self) -> Optional[trainscope.Run]:
        """The run being logged to, or None outside training (and on other processes)."""
        return self._run

    def _start(self, args: Any, state: Any, model: Any) -> trainscope.Run:
        config = config_dict(args.to_dict())
        model_config = getattr(model, "config", None)
        if model_config is not None:
            config["model_config"] = config_dict(
                model_config if isinstance(model_config, dict) else model_config.to_dict()
            )
        name = self._name or state.trial_name or args.run_name or "huggingface"
        self._run = trainscope.init(name, config=config, **self._init_kwargs)
        if self._watch and model is not None:
            self._run.watch(model)
        return self._run

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        """Start the run (ending one still open: evaluate() before train(), a trial that raised)."""
        if not state.is_world_process_zero:
            return
        self._end()
        self._start(args, state, model)

    def on_log(self, args, state, control, logs=None, **kwargs):
        """Log the numeric entries of `logs` at ``state.global_step``; strings become events."""
        if not state.is_world_process_zero or not logs:
            return
        run = self._run or self._start(args, state, kwargs.get("model"))  # evaluate() before train()
        metrics, texts = split_values({metric_name(k): v for k, v in logs.items()})
        run.log(metrics, step=state.global_step)
        for kind, text in texts.items():
            run.event(kind, text)

    def on_train_end(self, args, state, control, **kwargs):
        """Finish the run."""
        self._end()

    def _end(self) -> None:
        if self._run is not None:
            self._run.finish()
            self._run = None
