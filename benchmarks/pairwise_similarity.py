"""Time all pairwise similarities of many runs: cached per-representation statistics against a
naive loop that recomputes them for every pair.

    python benchmarks/pairwise_similarity.py [--runs 30] [--test 1000] [--fit 2000] [--dims 64]

The synthetic runs are noisy nonlinear maps of one shared latent code, so the pairs are neither
identical nor unrelated. Both versions run in this process and must agree.
"""

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from timing import compared, timed  # noqa: E402

from sslgeom.metrics.similarity import (  # noqa: E402
    SIMILARITY_METRICS,
    pair_similarities,
    representation_stats,
)

LATENT_DIMS = 16


def synthetic_runs(n_runs: int, n_fit: int, n_test: int, dims: int, seed: int = 0) -> list:
    """(fit, test) float32 embeddings of each run: tanh of a random linear map of shared
    latents, plus noise."""
    rng = np.random.default_rng(seed)
    latents = rng.standard_normal((n_fit + n_test, LATENT_DIMS))
    runs = []
    for _ in range(n_runs):
        z = np.tanh(latents @ rng.standard_normal((LATENT_DIMS, dims)) / 2)
        z = (z + 0.3 * rng.standard_normal(z.shape)).astype(np.float32)
        runs.append((z[:n_fit], z[n_fit:]))
    return runs


def cached_pairs(runs: list) -> list[dict[str, float]]:
    stats = [representation_stats(fit, test) for fit, test in runs]
    return [pair_similarities(a, b) for a, b in itertools.combinations(stats, 2)]


def naive_pairs(runs: list) -> list[dict[str, float]]:
    return [
        pair_similarities(representation_stats(*a), representation_stats(*b))
        for a, b in itertools.combinations(runs, 2)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--fit", type=int, default=2000)
    parser.add_argument("--dims", type=int, default=64)
    args = parser.parse_args()
    runs = synthetic_runs(args.runs, args.fit, args.test, args.dims)
    n_pairs = args.runs * (args.runs - 1) // 2
    print(
        f"{args.runs} runs ({n_pairs} pairs), N = {args.test} test, {args.fit} fit, d = {args.dims}"
    )
    cached, cached_seconds = timed(lambda: cached_pairs(runs))
    naive, naive_seconds = timed(lambda: naive_pairs(runs))
    largest_difference = max(
        abs(c[name] - n[name])
        for c, n in zip(cached, naive, strict=True)
        for name in SIMILARITY_METRICS
    )
    seconds = {"cached statistics": cached_seconds, "naive per pair": naive_seconds}
    print(compared(seconds, "cached statistics", "s", digits=2, ratio_digits=1))
    print(f"largest difference between the two: {largest_difference:.1e}")
    means = {name: np.mean([c[name] for c in cached]) for name in SIMILARITY_METRICS}
    print("mean over pairs: " + "  ".join(f"{k} {v:.3f}" for k, v in means.items()))


if __name__ == "__main__":
    main()
