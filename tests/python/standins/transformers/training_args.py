"""Stand-in for transformers.training_args.TrainingArguments: the fields the stand-in Trainer
uses, with the real names and defaults."""

import json
import os
from dataclasses import dataclass, fields
from enum import Enum
from typing import Optional

_STRATEGIES = ("no", "steps", "epoch")


@dataclass
class TrainingArguments:
    output_dir: str = "trainer_output"
    run_name: Optional[str] = None
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    num_train_epochs: float = 3.0
    max_steps: int = -1
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    logging_strategy: str = "steps"
    logging_first_step: bool = False
    logging_steps: int = 500
    eval_strategy: str = "no"
    eval_steps: Optional[int] = None
    seed: int = 42
    disable_tqdm: bool = True

    def __post_init__(self) -> None:
        for name in ("logging_strategy", "eval_strategy"):
            if getattr(self, name) not in _STRATEGIES:
                raise ValueError(f"{name} must be one of {_STRATEGIES}")
        if self.eval_strategy == "steps" and not self.eval_steps:
            self.eval_steps = self.logging_steps

    @property
    def process_index(self) -> int:
        """This process's index among all processes (0 when not distributed)."""
        return int(os.environ.get("RANK", 0))

    @property
    def local_process_index(self) -> int:
        """This process's index on its machine."""
        return int(os.environ.get("LOCAL_RANK", 0))

    def to_dict(self) -> dict:
        """The arguments as a plain dict (enums by value, tokens hidden)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        for key, value in d.items():
            if isinstance(value, Enum):
                d[key] = value.value
            if key.endswith("_token"):
                d[key] = f"<{key.upper()}>"
        return d

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
