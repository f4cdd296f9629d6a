"""A trainer whose Dataset logs from DataLoader worker processes (forked on Linux).

    dataloader_trainer.py ITEMS EPOCHS

The parent logs train/step once per batch; each worker logs data/item for every item it
loads, through the run it inherited. Prints the session id, then "done" when training ends.
"""
import sys

import torch
from torch.utils.data import DataLoader, Dataset

import trainscope


class LoggingDataset(Dataset):
    def __init__(self, run: trainscope.Run, items: int) -> None:
        self.items = items
        self.metric = run.metric("data/item")

    def __len__(self) -> int:
        return self.items

    def __getitem__(self, index: int) -> torch.Tensor:
        self.metric.log(index, float(index))  # in a forked worker: the shared lane
        return torch.tensor([float(index)])


def main(items: int, epochs: int) -> None:
    with trainscope.init("dataloader workers") as run:
        print("session", run.session_id, flush=True)
        step_metric = run.metric("train/step")
        loader = DataLoader(LoggingDataset(run, items), batch_size=4, num_workers=2)
        step = 0
        for _ in range(epochs):
            for batch in loader:
                step_metric.log(step, float(batch.sum()))
                step += 1
        print("steps", step, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
