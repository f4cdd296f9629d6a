"""Stand-in for lightning.pytorch.core.module.LightningModule: hyper-parameters and
``self.log`` for the training step, as far as a logger sees them."""

import copy
import inspect
from argparse import Namespace
from collections.abc import Mapping
from typing import Any, Optional, Sequence

import torch


class LightningModule(torch.nn.Module):
    """A torch Module the Trainer fits: define training_step and configure_optimizers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trainer: Any = None
        self._log_hyperparams = True
        self._hparams: dict = {}
        self._hparams_initial: dict = {}

    def save_hyperparameters(
        self, *args: Any, ignore: Optional[Sequence[str]] = None, frame: Any = None, logger: bool = True
    ) -> None:
        """Save a dict or Namespace given, or else the arguments of the calling ``__init__``.

        (The real one also takes argument names; the stand-in does not.)
        """
        self._log_hyperparams = logger
        if len(args) == 1 and isinstance(args[0], (Mapping, Namespace)):
            hparams = dict(vars(args[0]) if isinstance(args[0], Namespace) else args[0])
        elif not args:
            frame = frame or inspect.currentframe().f_back
            params = inspect.signature(type(self).__init__).parameters.values()
            named = [p.name for p in params
                     if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            hparams = {name: frame.f_locals[name] for name in named if name in frame.f_locals}
        else:
            raise NotImplementedError("the stand-in saves a dict, a Namespace or the __init__ arguments")
        for name in ignore or ():
            hparams.pop(name, None)
        self._hparams = hparams
        self._hparams_initial = copy.deepcopy(hparams)

    @property
    def hparams(self) -> dict:
        """The saved hyper-parameters."""
        return self._hparams

    @property
    def hparams_initial(self) -> dict:
        """The hyper-parameters as first saved (what the Trainer gives the loggers)."""
        return copy.deepcopy(self._hparams_initial)

    def log(
        self, name: str, value: Any, prog_bar: bool = False, logger: Optional[bool] = None, **kwargs: Any
    ) -> None:
        """Log `value` for the current training step (on_step; the stand-in has no on_epoch)."""
        if logger is not False:
            self.trainer._step_metrics[name] = value.detach() if isinstance(value, torch.Tensor) else value

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        raise NotImplementedError

    def configure_optimizers(self) -> torch.optim.Optimizer:
        raise NotImplementedError
