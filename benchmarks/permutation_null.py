"""What the permutation nulls add to the identifiability job, measured side by side.

    python benchmarks/permutation_null.py [--runs 54] [--permutations 20 100]

On synthetic representations shaped like the identifiability experiment's (N test rows,
encoder 128-d and projector 32-d, N_fit fit rows), in one process: the per-run statistics, every
pair's similarities (the job without nulls), and the permutation nulls of every pair for each
``--permutations`` count, run one thread as the Snakemake job does (OMP_NUM_THREADS=1 is set
before numpy loads). Prints the time of each part and the ratio of the total with nulls to
the total without. The job itself also loads the embeddings and compares snapshots, which this
leaves out.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from timing import timed  # noqa: E402

from sslgeom.metrics.similarity import (  # noqa: E402
    pair_similarities,
    permutation_null,
    permutation_orders,
    representation_stats,
)

LAYER_DIMS = {"encoder": 128, "projector": 32}


def synthetic_stats(runs: int, n_test: int, n_fit: int, dim: int, seed: int) -> list:
    """Runs that share a random low-rank signal plus their own noise (like seeds of a recipe)."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_fit + n_test, 16))
    stats = []
    for _ in range(runs):
        features = signal @ rng.standard_normal((16, dim)) + rng.standard_normal((len(signal), dim))
        stats.append(representation_stats(features[:n_fit], features[n_fit:]))
    return stats


def all_nulls(stats: list, shuffles) -> None:
    """Every pair's null (CKA and mutual k-NN, b shuffled), as the identifiability job does."""
    for index, target in enumerate(stats[1:], start=1):
        permutation_null(stats[:index], target, shuffles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=54)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--fit", type=int, default=2000)
    parser.add_argument("--permutations", type=int, nargs="+", default=[20, 100])
    args = parser.parse_args()
    layers, build = {}, 0.0
    for seed, (layer, dim) in enumerate(LAYER_DIMS.items()):
        layers[layer], seconds = timed(
            lambda seed=seed, dim=dim: synthetic_stats(args.runs, args.test, args.fit, dim, seed)
        )
        build += seconds
    pairs = sum(
        timed(lambda s=stats: [pair_similarities(a, b) for a, b in itertools.combinations(s, 2)])[1]
        for stats in layers.values()
    )
    without = build + pairs
    n_pairs = args.runs * (args.runs - 1) // 2
    print(f"{args.runs} runs, {n_pairs} pairs, 2 layers, N = {args.test}, N_fit = {args.fit}")
    print(f"per-run statistics {build:.1f} s, every pair's similarities {pairs:.1f} s")
    for count in args.permutations:
        shuffles = permutation_orders(args.test, count, seed=0)
        nulls = sum(
            timed(lambda s=stats, order=shuffles: all_nulls(s, order))[1]
            for stats in layers.values()
        )
        print(
            f"{count:4d} permutations: nulls {nulls:.1f} s; statistics, similarities and nulls "
            f"over statistics and similarities alone: {(without + nulls) / without:.2f}×"
        )


if __name__ == "__main__":
    main()
