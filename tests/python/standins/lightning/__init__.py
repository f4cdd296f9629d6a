"""Stand-in for the ``lightning`` package (see tests/python/standins/README.md)."""

from lightning.pytorch import LightningModule, Trainer  # noqa: F401
