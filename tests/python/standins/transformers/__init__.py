"""Stand-in for the ``transformers`` package (see tests/python/standins/README.md)."""

from transformers.configuration_utils import PretrainedConfig  # noqa: F401
from transformers.trainer import Trainer  # noqa: F401
from transformers.trainer_callback import (  # noqa: F401
    CallbackHandler,
    DefaultFlowCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
)
from transformers.training_args import TrainingArguments  # noqa: F401
