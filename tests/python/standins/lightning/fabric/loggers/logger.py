"""Stand-in for lightning.fabric.loggers.logger: the abstract Logger every Lightning logger
extends, and the decorator that gives ranks other than zero a dummy experiment."""

from abc import ABC, abstractmethod
from argparse import Namespace
from functools import wraps
from typing import Any, Callable, Optional, Union

from torch import Tensor
from torch.nn import Module

from lightning.fabric.utilities.rank_zero import rank_zero_only


class Logger(ABC):
    """Base class for experiment loggers."""

    @property
    @abstractmethod
    def name(self) -> Optional[str]:
        """The experiment's name."""

    @property
    @abstractmethod
    def version(self) -> Optional[Union[int, str]]:
        """The experiment's version."""

    @property
    def root_dir(self) -> Optional[str]:
        """Where every version of the experiment is saved; None for loggers that save nothing locally."""
        return None

    @property
    def log_dir(self) -> Optional[str]:
        """Where this version is saved; None for loggers that save nothing locally."""
        return None

    @property
    def group_separator(self) -> str:
        """What separates a metric's group from its name."""
        return "/"

    @abstractmethod
    def log_metrics(self, metrics: dict, step: Optional[int] = None) -> None:
        """Record `metrics` at `step`."""

    @abstractmethod
    def log_hyperparams(self, params: Union[dict, Namespace], *args: Any, **kwargs: Any) -> None:
        """Record hyper-parameters."""

    def log_graph(self, model: Module, input_array: Optional[Tensor] = None) -> None:
        """Record the model's graph."""

    def save(self) -> None:
        """Save log data."""

    def finalize(self, status: str) -> None:
        """Finish the experiment with `status` ("success", "failed", ...)."""
        self.save()


def rank_zero_experiment(fn: Callable) -> Callable:
    """The real experiment on rank 0, a _DummyExperiment elsewhere."""

    @wraps(fn)
    def experiment(self: Logger) -> Any:
        if rank_zero_only.rank > 0:
            return _DummyExperiment()
        return fn(self)

    return experiment


class _DummyExperiment:
    """Accepts any call and does nothing."""

    def nop(self, *args: Any, **kw: Any) -> None:
        pass

    def __getattr__(self, _: Any) -> Callable:
        return self.nop

    def __getitem__(self, idx: int) -> "_DummyExperiment":
        return self

    def __setitem__(self, *args: Any, **kwargs: Any) -> None:
        pass
