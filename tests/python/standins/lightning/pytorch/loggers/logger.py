"""Stand-in for lightning.pytorch.loggers.logger: the Trainer's Logger base class."""

from typing import Any, Optional

from lightning.fabric.loggers import Logger as FabricLogger
from lightning.fabric.loggers.logger import _DummyExperiment as DummyExperiment  # noqa: F401
from lightning.fabric.loggers.logger import rank_zero_experiment  # noqa: F401


class Logger(FabricLogger):
    """Base class for the Trainer's experiment loggers."""

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Called after a ModelCheckpoint saved a checkpoint."""

    @property
    def save_dir(self) -> Optional[str]:
        """Where logs are saved; None for loggers that save nothing locally."""
        return None
