"""A real two-rank DDP job as torchrun would start it, logging into one Trainscope run.

    ddp_trainer.py OUT_DIR STEPS

torch.multiprocessing.spawn starts one process per rank (gloo backend, CPU); each sets RANK
as torchrun does and shares the job's TORCHELASTIC_RUN_ID (from the environment), trains a
small DDP model for STEPS steps, logs its loss and its rank-specific batch size, and writes
its session id and final weights to OUT_DIR/rank<N>.txt.
"""
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import trainscope

WORLD = 2


def worker(rank: int, out_dir: str, steps: int, port: int) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    torch.manual_seed(1234 + rank)  # each rank its own data
    model = DistributedDataParallel(torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    with trainscope.init("ddp job", config={"world_size": WORLD}) as run:
        run.watch(model)
        loss_metric = run.metric("train/loss")
        for step in range(steps):
            x = torch.randn(8, 4)
            loss = ((model(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces the gradients here
            optimizer.step()
            loss_metric.log(step, loss)
            run.log({"rank_marker": float(rank)}, step=step)
        weights = [round(float(v), 6) for v in model.module.weight.detach().flatten()]
        with open(os.path.join(out_dir, f"rank{rank}.txt"), "w") as f:
            f.write(f"{run.session_id} {run.rank} {' '.join(map(str, weights))}\n")
    dist.destroy_process_group()


if __name__ == "__main__":
    import socket

    with socket.socket() as s:  # a free port for the rendezvous, on loopback
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    mp.spawn(worker, args=(sys.argv[1], int(sys.argv[2]), free_port), nprocs=WORLD, join=True)
