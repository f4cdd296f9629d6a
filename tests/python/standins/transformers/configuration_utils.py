"""Stand-in for transformers.configuration_utils.PretrainedConfig: a model's config."""

import json
from typing import Any


class PretrainedConfig:
    """Keyword arguments kept as attributes."""

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
