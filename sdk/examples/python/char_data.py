"""A text file as a character-level dataset, the same way the C++ example reads it
(sdk/examples/gpt/char_dataset.cpp): the file's distinct bytes, sorted, are the vocabulary;
the first 90 % trains, the last 10 % validates; a batch is random contiguous windows
(nanoGPT's ``get_batch``)."""
from __future__ import annotations

from pathlib import Path

import torch

# The C++ trainer's default text, so both examples train on the same characters.
DEFAULT_DATA = "/usr/share/common-licenses/GPL-3"


class CharDataset:
    """Encoded train and val splits of one text file."""

    def __init__(self, path: str | Path) -> None:
        raw = Path(path).read_bytes()
        if not raw:
            raise ValueError(f"data file '{path}' is empty")
        self.path = str(path)
        self.chars = sorted(set(raw))  # byte values; token i is chars[i]
        lookup = torch.full((256,), -1, dtype=torch.long)
        lookup[self.chars] = torch.arange(len(self.chars))
        encoded = lookup[torch.frombuffer(bytearray(raw), dtype=torch.uint8).long()]
        n_train = len(raw) * 9 // 10
        self.train = encoded[:n_train]
        self.val = encoded[n_train:]

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.train) + len(self.val)

    def check_block_size(self, block_size: int) -> None:
        """Raises ValueError unless both splits hold more than block_size tokens."""
        for name, split in (("train", self.train), ("val", self.val)):
            if len(split) <= block_size:
                raise ValueError(f"the {name} split of '{self.path}' has {len(split)} characters, "
                                 f"too few for block_size {block_size}")

    def get_batch(self, split: str, batch_size: int, block_size: int,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """batch_size windows at random offsets: inputs (B, T) and the next characters (B, T)."""
        data = self.train if split == "train" else self.val
        starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
        windows = data[starts[:, None] + torch.arange(block_size + 1)]
        return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()
