"""The InfoNCE similarities side by side: one forward and backward pass of the loss alone.

    python benchmarks/lp_info_nce.py [--batch 256] [--dim 10] [--rounds 5]

For two views of ``--batch`` outputs of ``--dim`` dimensions (the papers' rows train 256 × 10),
one thread as a training job runs: the cosine (NT-Xent), the L1 distance, the squared L2
distance as the loss computes it (one matmul) and, for reference, the squared L2 distance from
the exact pairwise differences (``torch.cdist`` without its matmul shortcut). The variants run
alternately each round; prints the best round of each in steps per second and its ratio to the
cosine.
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from timing import alternate, best, call_seconds, compared  # noqa: E402

from sslgeom.training.losses import _contrast, lp_info_nce, nt_xent  # noqa: E402


def exact_squared_l2(z1, z2, temperature):
    z = torch.cat([z1, z2])
    distances = torch.cdist(z, z, compute_mode="donot_use_mm_for_euclid_dist") ** 2
    return _contrast(-distances / temperature)


LOSSES = {
    "cosine": lambda z1, z2: nt_xent(z1, z2, 0.1),
    "l1": lambda z1, z2: lp_info_nce(z1, z2, 0.05, 1),
    "l2": lambda z1, z2: lp_info_nce(z1, z2, 0.005, 2),
    "l2 exact differences": lambda z1, z2: exact_squared_l2(z1, z2, 0.005),
}


def steps_per_second(loss, z1, z2, calls: int) -> float:
    def step():
        z1.grad = None
        loss(z1, z2).backward()

    return calls / sum(call_seconds(step, calls, warmup=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    z1 = torch.randn(args.batch, args.dim, generator=generator).requires_grad_()
    z2 = torch.randn(args.batch, args.dim, generator=generator)
    variants = {
        name: (lambda _, loss=loss: steps_per_second(loss, z1, z2, args.calls))
        for name, loss in LOSSES.items()
    }
    rates = best(alternate(variants, args.rounds))
    print(f"{args.batch} × {args.dim}, one thread, best of {args.rounds} rounds:")
    print(compared(rates, "cosine", "steps/s"))


if __name__ == "__main__":
    main()
