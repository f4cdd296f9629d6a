"""Stand-in for the ``accelerate`` package (see tests/python/standins/README.md)."""

from accelerate.accelerator import Accelerator  # noqa: F401
from accelerate.state import PartialState  # noqa: F401
