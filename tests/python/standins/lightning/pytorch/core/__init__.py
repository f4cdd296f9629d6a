from lightning.pytorch.core.module import LightningModule  # noqa: F401
