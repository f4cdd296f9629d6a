"""Stand-in for accelerate.Accelerator: trackers only (init_trackers, log, get_tracker,
end_training) in the real order, plus pass-through prepare and backward. Trackers must be
GeneralTracker instances (no names such as "wandb")."""

from functools import wraps
from typing import Any, Optional

import torch

from accelerate.state import PartialState
from accelerate.tracking import GeneralTracker


def _main_process_only(method):
    # The real Accelerator decorates these with its own on_main_process.
    @wraps(method)
    def on_main(self, *args, **kwargs):
        return method(self, *args, **kwargs) if self.is_main_process else None

    return on_main


class Accelerator:
    def __init__(self, log_with: Any = None) -> None:
        self.state = PartialState()
        trackers = [] if log_with is None else log_with if isinstance(log_with, (list, tuple)) else [log_with]
        if not all(isinstance(t, GeneralTracker) for t in trackers):
            raise NotImplementedError("the stand-in takes GeneralTracker instances only")
        self.log_with = list(trackers)
        self.trackers: list = []
        self.device = torch.device("cpu")

    @property
    def is_main_process(self) -> bool:
        return self.state.is_main_process

    def prepare(self, *args: Any) -> Any:
        return args[0] if len(args) == 1 else args

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    @_main_process_only
    def init_trackers(
        self, project_name: str, config: Optional[dict] = None, init_kwargs: Optional[dict] = None
    ) -> None:
        """Start every tracker, then store `config` in each."""
        for tracker in self.log_with:
            self.trackers.append(tracker)  # custom trackers come initialized
        for tracker in self.trackers:
            tracker.start()
        if config is not None:
            for tracker in self.trackers:
                tracker.store_init_configuration(config)

    def get_tracker(self, name: str, unwrap: bool = False) -> Any:
        """The tracker called `name`, or with unwrap its internal object."""
        for tracker in self.trackers:
            if tracker.name == name:
                return tracker.tracker if unwrap else tracker
        raise ValueError(f"{name} is not an available tracker stored inside the `Accelerator`.")

    @_main_process_only
    def log(self, values: dict, step: Optional[int] = None, log_kwargs: Optional[dict] = None) -> None:
        """Log `values` at `step` to every tracker."""
        log_kwargs = log_kwargs or {}
        for tracker in self.trackers:
            tracker.log(values, step=step, **log_kwargs.get(tracker.name, {}))

    def end_training(self) -> None:
        """Let every tracker finish."""
        for tracker in self.trackers:
            tracker.finish()
