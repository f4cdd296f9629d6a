"""Stand-in for accelerate.tracking: the GeneralTracker base class of the current releases
(name, requires_logging_directory, tracker, main_process_only, start) and the decorator that
keeps a tracker's calls on the main process."""

from functools import wraps
from typing import Optional

from accelerate.state import PartialState


def on_main_process(function):
    """Run a tracker method on the main process only when the tracker's main_process_only is set."""

    @wraps(function)
    def execute_on_main_process(self, *args, **kwargs):
        if getattr(self, "main_process_only", False):
            return PartialState().on_main_process(function)(self, *args, **kwargs)
        return function(self, *args, **kwargs)

    return execute_on_main_process


class GeneralTracker:
    """Base class of experiment trackers.

    A subclass defines ``name``, ``requires_logging_directory`` and a ``tracker`` property,
    and may set ``main_process_only`` (default True).
    """

    main_process_only = True

    def __init__(self, _blank: bool = False) -> None:
        if _blank:
            return
        missing = [attr for attr in ("name", "requires_logging_directory") if not hasattr(self, attr)]
        if "tracker" not in dir(self):
            missing.append("tracker")
        if missing:
            raise NotImplementedError(
                "The implementation for this tracker class is missing the following required attributes. "
                "Please define them in the class definition: " + ", ".join(f"`{m}`" for m in missing)
            )

    def start(self) -> None:
        """Initialise the tracker; the Accelerator calls it in init_trackers."""

    def store_init_configuration(self, values: dict) -> None:
        """Store `values` as the run's hyper-parameters."""

    def log(self, values: dict, step: Optional[int], **kwargs) -> None:
        """Log `values` at `step`."""

    def finish(self) -> None:
        """Finish the run."""
