"""Stand-in for accelerate.state.PartialState: the process layout from the environment that
``accelerate launch`` / torchrun set (no process group)."""

import os
from functools import wraps
from typing import Callable


class PartialState:
    """Which process this is."""

    def __init__(self) -> None:
        self.process_index = int(os.environ.get("RANK", 0))
        self.local_process_index = int(os.environ.get("LOCAL_RANK", 0))
        self.num_processes = int(os.environ.get("WORLD_SIZE", 1))

    @property
    def is_main_process(self) -> bool:
        return self.process_index == 0

    def on_main_process(self, function: Callable) -> Callable:
        """`function` on the main process, a no-op elsewhere."""

        @wraps(function)
        def on_main(*args, **kwargs):
            return function(*args, **kwargs) if self.is_main_process else None

        return on_main
