from lightning.pytorch.core import LightningModule  # noqa: F401
from lightning.pytorch.trainer import Trainer  # noqa: F401
