"""Test-set resamples of per-run metrics, for the test-set part of a claim's uncertainty.

The test images are resampled with replacement, the same resampled images for every run of an
experiment (they share the test set), and each metric is recomputed from the stored embeddings
on every resample: a resample is a row of multinomial image counts, so no array is copied.

- ``invariance_ref`` (:func:`invariance_resamples`): from each image's reference views, the
  weighted within-image variances and the weighted first and second moments of all views;
- ``rankme`` (:func:`rankme_resamples`): from the weighted Gram matrix ZᵀWZ, whose eigenvalues
  are the squared singular values of the resampled (uncentred) embeddings;
- probe accuracy (:func:`accuracy_resamples`): parametric, the number of correct test images
  drawn Binomial(n, accuracy), since the analysis keeps no per-image predictions; drawn
  independently for the encoder and the projector, which overstates the variance of their
  difference when their errors fall on the same images (conservative).
"""

import functools
from collections import defaultdict

import numpy as np
import pandas as pd

from sslgeom.io.artifacts import load_embeddings
from sslgeom.metrics.spectrum import RANKME_EPS

LAYERS = ("encoder", "projector")
# Memory for the per-row outer products of RankMe's Gram matrices at one time (all N rows at
# once would take N·d²·8 bytes: 1.3 GB for 10,000 test images at d = 128).
OUTER_BLOCK_BYTES = 16 * 2**20


def resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """``n_resamples`` bootstrap resamples of n items as counts (n_resamples × n, each row a
    multinomial draw of n items with equal probabilities, seeded)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1 / n), size=n_resamples).astype(np.float64)


def invariance_resamples(views: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The invariance 1 − (mean within-image variance) / (total variance) of ``views``
    (N × V × d; population variances summed over dimensions) on each resample of the N images
    (``counts``: resamples × N)."""
    views = np.asarray(views, dtype=np.float64)
    n_views = views.shape[1]
    within = views.var(axis=1).sum(axis=1)
    first = views.sum(axis=1)
    second = np.sum(views**2, axis=(1, 2))
    rows = counts.sum(axis=1) * n_views
    mean = counts @ first / rows[:, None]
    total = counts @ second / rows - np.sum(mean**2, axis=1)
    return 1 - (counts @ within / counts.sum(axis=1)) / total


def rankme_resamples(z: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """RankMe (Garrido et al. 2023) of the uncentred embeddings ``z`` (N × d) on each resample
    of its rows: the singular values are the square roots of the eigenvalues of ZᵀWZ, summed
    over blocks of rows whose outer products take at most OUTER_BLOCK_BYTES."""
    z = np.asarray(z, dtype=np.float64)
    n, d = z.shape
    rows = max(1, OUTER_BLOCK_BYTES // (z.itemsize * d * d))
    grams = np.zeros((len(counts), d * d))
    for start in range(0, n, rows):
        block = z[start : start + rows]
        outer = (block[:, :, None] * block[:, None, :]).reshape(len(block), -1)
        grams += counts[:, start : start + rows] @ outer
    grams = grams.reshape(len(counts), d, d)
    sigma = np.sqrt(np.clip(np.linalg.eigvalsh(grams), 0, None))
    p = sigma / sigma.sum(axis=1, keepdims=True) + RANKME_EPS
    return np.exp(-np.sum(p * np.log(p), axis=1))


def accuracy_resamples(
    accuracy: float, n: int, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Parametric resamples of an accuracy measured on n test images: Binomial(n, accuracy)/n."""
    return rng.binomial(n, accuracy, size=n_resamples) / n


def test_set_resamples(
    metrics: pd.DataFrame,
    run_factors: list[dict],
    embeddings_paths: list[str],
    factors: list[str],
    n_resamples: int,
    seed: int,
) -> dict[tuple[str, str], dict[tuple, np.ndarray]]:
    """(metric, layer) → run (its factor values in ``factors`` order) → test-set resamples of
    ``invariance_ref`` at the encoder and the projector, the projector's ``rankme`` and both
    layers' ``probe_acc`` (whose observed values come from ``metrics``); the same resampled
    images for every run that has a projector."""
    rng = np.random.default_rng(seed)
    counts = functools.cache(lambda n: resample_counts(n, n_resamples, seed))
    probe = metrics[metrics["metric"] == "probe_acc"].set_index([*factors, "layer"])["value"]
    resamples = defaultdict(dict)
    for values, path in zip(run_factors, embeddings_paths, strict=True):
        run = tuple(values[factor] for factor in factors)
        arrays = load_embeddings(path, prefixes=("refviews_", "test_projector", "test_labels"))
        if "test_projector" not in arrays:  # a model trained elsewhere, without a projector
            continue
        for layer in LAYERS:
            views = arrays[f"refviews_{layer}"]
            resamples["invariance_ref", layer][run] = invariance_resamples(
                views, counts(len(views))
            )
            accuracy, n_test = probe[(*run, layer)], len(arrays["test_labels"])
            resamples["probe_acc", layer][run] = accuracy_resamples(
                accuracy, n_test, n_resamples, rng
            )
        z = arrays["test_projector"]
        resamples["rankme", "projector"][run] = rankme_resamples(z, counts(len(z)))
    return dict(resamples)
