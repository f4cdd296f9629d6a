from lightning.fabric.loggers.logger import Logger  # noqa: F401
