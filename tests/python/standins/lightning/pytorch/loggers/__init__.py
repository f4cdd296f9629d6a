from lightning.pytorch.loggers.logger import Logger  # noqa: F401
