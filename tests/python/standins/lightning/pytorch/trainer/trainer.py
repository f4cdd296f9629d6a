"""Stand-in for lightning.pytorch.Trainer: ``fit`` with the real Trainer's calls to its
loggers, in its order (trainer/call.py, loggers/utilities.py, the logger connector and the
training epoch loop of Lightning 2.x). One optimizer, automatic optimization, no
validation loop, no devices, strategies or checkpoints."""

from collections.abc import Iterable
from typing import Any, Optional, Union

import torch

from lightning.pytorch.loggers.logger import Logger


class Trainer:
    """Fits a LightningModule for max_steps optimizer steps or max_epochs epochs."""

    def __init__(
        self,
        *,
        logger: Optional[Union[Logger, Iterable]] = None,
        max_epochs: Optional[int] = None,
        max_steps: int = -1,
        log_every_n_steps: int = 50,
    ) -> None:
        if logger is True:
            raise NotImplementedError("the stand-in has no default logger")
        self.loggers = [] if not logger else list(logger) if isinstance(logger, Iterable) else [logger]
        if max_epochs is None:
            max_epochs = 1000 if max_steps == -1 else -1
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.log_every_n_steps = log_every_n_steps
        self.lightning_module: Any = None
        self.global_step = 0  # optimizer steps taken
        self.current_epoch = 0
        self._batches_that_stepped = 0  # the step loggers see
        self._step_metrics: dict = {}

    @property
    def logger(self) -> Optional[Logger]:
        return self.loggers[0] if self.loggers else None

    def fit(self, model: Any, train_dataloaders: Iterable) -> None:
        """Train; if anything raises, every logger is finalized as "failed" and it re-raises."""
        model.trainer = self
        self.lightning_module = model
        try:
            self._run(model, train_dataloaders)
        except BaseException:
            for logger in self.loggers:
                logger.finalize("failed")
            raise

    def _run(self, model: Any, dataloader: Iterable) -> None:
        # Setup: loggers create their experiment lazily, so that their metadata is available.
        for logger in self.loggers:
            if hasattr(logger, "experiment"):
                _ = logger.experiment
        optimizer = model.configure_optimizers()
        self._log_hyperparams(model)
        self._fit_loop(model, dataloader, optimizer)
        # Teardown.
        for logger in self.loggers:
            logger.finalize("success")

    def _log_hyperparams(self, model: Any) -> None:
        hparams = model.hparams_initial if model._log_hyperparams else None
        for logger in self.loggers:
            if hparams is not None:
                logger.log_hyperparams(hparams)
            logger.log_graph(model)
            logger.save()

    def _fit_loop(self, model: Any, dataloader: Iterable, optimizer: torch.optim.Optimizer) -> None:
        model.train()
        while self.max_epochs == -1 or self.current_epoch < self.max_epochs:
            for batch_idx, batch in enumerate(dataloader):
                self._step_metrics = {}
                loss = model.training_step(batch, batch_idx)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                self.global_step += 1
                # The logger connector logs before the loop counts the batch as stepped.
                if (self._batches_that_stepped + 1) % self.log_every_n_steps == 0:
                    self._log_metrics(self._step_metrics)
                self._batches_that_stepped += 1
                if self.max_steps != -1 and self.global_step >= self.max_steps:
                    return
            self.current_epoch += 1

    def _log_metrics(self, metrics: dict) -> None:
        if not self.loggers or not metrics:
            return
        scalars = {k: v.item() if isinstance(v, torch.Tensor) else v for k, v in metrics.items()}
        step = scalars.pop("step", None)
        if step is not None:
            step = int(step)
        else:
            scalars.setdefault("epoch", self.current_epoch)
            step = self._batches_that_stepped
        for logger in self.loggers:
            logger.log_metrics(metrics=scalars, step=step)
            logger.save()
