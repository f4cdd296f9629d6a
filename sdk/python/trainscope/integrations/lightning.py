"""Trainscope as a Lightning logger: ``Trainer(logger=TrainscopeLogger("my-run"))``.

Lightning calls the logger on global rank zero only (``@rank_zero_only``, and
``@rank_zero_experiment`` hands the other ranks a dummy experiment), as its own loggers do:
rank zero's metrics make the run. The run starts when Lightning first touches
``experiment`` (in ``Trainer.fit``'s setup); hyper-parameters become the run's config, the
model its diagram (``log_graph``), and ``finalize("success")`` / ``finalize("failed")``
ends it as finished / failed. A later fit, validate or test with the same logger continues
the same run (same session id).
"""

from __future__ import annotations

from argparse import Namespace
from typing import Any, Mapping, Optional, Union

from ._framework import is_missing, missing_framework

try:
    from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
    from lightning.pytorch.utilities.rank_zero import rank_zero_only
except ModuleNotFoundError as lightning_error:
    if not is_missing(lightning_error, "lightning"):
        raise
    try:  # installs of the older package name
        from pytorch_lightning.loggers.logger import Logger, rank_zero_experiment
        from pytorch_lightning.utilities.rank_zero import rank_zero_only
    except ModuleNotFoundError as pl_error:
        if not is_missing(pl_error, "pytorch_lightning"):
            raise
        raise missing_framework("trainscope.integrations.lightning", "Lightning", "lightning") from None

import trainscope

from ._convert import config_dict, split_values

# Lightning finalizes with "success" after fit/validate/test and "failed" when one raised;
# anything else it may pass (an abort) did not succeed either.
_FINISH_STATUS = {"success": "finished", "finished": "finished", "failed": "failed"}


class TrainscopeLogger(Logger):
    """A Lightning ``Logger`` that logs into a Trainscope run.

    Args:
        name: the run's name on the dashboard.
        run_id: join this session id instead of making a new one (as ``trainscope.init``).
        log_graph: send the model's layer tree when Lightning calls ``log_graph``.
        **init_kwargs: passed on to ``trainscope.init`` (``rank``, ``autostart``, ``sync``).
    """

    def __init__(
        self,
        name: str = "lightning",
        *,
        run_id: Optional[str] = None,
        log_graph: bool = True,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        self._name = name
        self._run_id = run_id
        self._log_graph = log_graph
        self._init_kwargs = init_kwargs
        self._config: dict = {}
        self._run: Optional[trainscope.Run] = None

    @property
    def name(self) -> str:
        """The run's name."""
        return self._name

    @property
    def version(self) -> Optional[str]:
        """The run's session id (None before the run starts, unless a run_id was given)."""
        return self._run.session_id if self._run is not None else self._run_id

    @property
    @rank_zero_experiment
    def experiment(self) -> trainscope.Run:
        """The trainscope Run, started on first use (a dummy on ranks other than zero)."""
        if self._run is None:
            self._run = trainscope.init(
                self._name, config=self._config or None, run_id=self._run_id, **self._init_kwargs
            )
            # After finalize, the next use continues this session rather than a new one.
            self._run_id = self._run.session_id
        return self._run

    @rank_zero_only
    def log_hyperparams(self, params: Union[Mapping[str, Any], Namespace], *args: Any, **kwargs: Any) -> None:
        """Merge `params` (nested dicts and Namespaces kept as nested objects) into the config."""
        self._config.update(config_dict(params))
        self.experiment.set_config(self._config)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        """Log every numeric entry of `metrics` at `step` (None: the run's last step + 1)."""
        values, _ = split_values(metrics)
        self.experiment.log(values, step=step)

    @rank_zero_only
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Send the model's layer tree (``run.watch``); `input_array` is not needed."""
        if self._log_graph:
            self.experiment.watch(model)

    @rank_zero_only
    def save(self) -> None:
        """Resolve values still pending (CUDA tensors logged through ``experiment``)."""
        if self._run is not None:
            self._run.flush()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """End the run: "success" -> finished, "failed" (or anything else) -> failed."""
        if self._run is None:
            return
        run, self._run = self._run, None
        run.finish(status=_FINISH_STATUS.get(status, "failed"))

    def __getstate__(self) -> dict:
        # Strategies that spawn processes pickle the logger; the Run (shared memory) stays
        # here, and a copy that logs continues the same session.
        state = self.__dict__.copy()
        state["_run"] = None
        if self._run is not None:
            state["_run_id"] = self._run.session_id
        return state
