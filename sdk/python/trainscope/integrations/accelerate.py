"""Trainscope as an accelerate tracker: ``Accelerator(log_with=TrainscopeTracker("my-run"))``.

``init_trackers(project_name, config=...)`` starts the run and stores the config,
``accelerator.log(values, step=...)`` logs (numbers and 0-d tensors as metrics, nested
dicts as ``outer/inner``, strings as events), ``end_training()`` finishes the run. With
accelerate's default ``main_process_only``, only the main process logs. The run starts in
``start()`` where accelerate calls it (recent releases), else on first use.
"""

from __future__ import annotations

from typing import Any, Optional

from ._framework import is_missing, missing_framework

try:
    from accelerate.tracking import GeneralTracker
except ModuleNotFoundError as error:
    if not is_missing(error, "accelerate"):
        raise
    raise missing_framework("trainscope.integrations.accelerate", "accelerate", "accelerate") from None

try:
    from accelerate.tracking import on_main_process
except ImportError:  # older releases: trackers had no main_process_only, the Accelerator gated calls

    def on_main_process(function):
        return function


import trainscope

from ._convert import config_dict, split_values


class TrainscopeTracker(GeneralTracker):
    """An accelerate ``GeneralTracker`` that logs into a Trainscope run.

    Args:
        run_name: the run's name on the dashboard.
        **init_kwargs: passed on to ``trainscope.init`` (``run_id``, ``rank``, ``autostart``, ``sync``).
    """

    name = "trainscope"
    requires_logging_directory = False
    main_process_only = True

    def __init__(self, run_name: str, **init_kwargs: Any) -> None:
        super().__init__()
        self.run_name = run_name
        self._init_kwargs = init_kwargs
        self._run: Optional[trainscope.Run] = None

    @property
    def tracker(self) -> Optional[trainscope.Run]:
        """The trainscope Run (None before the tracker starts)."""
        return self._run

    def _ensure_run(self) -> trainscope.Run:
        if self._run is None:
            self._run = trainscope.init(self.run_name, **self._init_kwargs)
        return self._run

    @on_main_process
    def start(self) -> None:
        """Start the run."""
        self._ensure_run()

    @on_main_process
    def store_init_configuration(self, values: dict) -> None:
        """Make `values` the run's config."""
        self._ensure_run().set_config(config_dict(values))

    @on_main_process
    def log(self, values: dict, step: Optional[int] = None, **kwargs: Any) -> None:
        """Log `values` at `step` (None: the run's last step + 1)."""
        run = self._ensure_run()
        metrics, texts = split_values(values)
        run.log(metrics, step=step)
        for kind, text in texts.items():
            run.event(kind, text)

    @on_main_process
    def finish(self) -> None:
        """Finish the run."""
        if self._run is not None:
            self._run.finish()
            self._run = None
