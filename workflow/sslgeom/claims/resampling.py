"""Test-set resamples of per-run metrics, for the test-set part of a claim's uncertainty.

The test images are resampled with replacement, the same resampled images for every run of an
experiment (they share the test set) and for every metric computed on the same images, and each
metric is recomputed from the stored per-image data on every resample: a resample is a row of
multinomial image counts, so no array is copied.

- ``invariance_ref`` (:func:`invariance_resamples`): from each image's reference views (the
  first ``embedding.n_view_images`` test images), the weighted within-image variances and the
  weighted first and second moments of all views;
- ``rankme`` (:func:`rankme_resamples`): from the weighted Gram matrix ZᵀWZ of the test
  embeddings, whose eigenvalues are the squared singular values of the resampled (uncentred)
  embeddings;
- ``probe_acc`` (:func:`accuracy_resamples`): the share of the resampled test images that the
  run's probe classifies right (its per-image correctness, ``correct.npz``), with the same
  draws as RankMe at every layer and run, so that errors shared across layers and seeds move
  together.

The geometry and identifiability claims carry no test-image part: the geometry job keeps its
sensitivities averaged over the geometry images, and CKA and mutual k-NN are not means of
per-image terms that a resample could reweight without recomputing every pair.
"""

import functools
from collections import defaultdict

import numpy as np

from sslgeom.io.artifacts import load_embeddings, load_npz, rebuild_hint
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


def accuracy_resamples(correct: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The accuracy on each resample of the test images (``counts``: resamples × N) from
    whether each image was classified right (``correct``: N bools)."""
    return counts @ np.asarray(correct, dtype=np.float64) / counts.sum(axis=1)


def test_set_resamples(
    run_factors: list[dict],
    embeddings_paths: list[str],
    correct_paths: list[str],
    factors: list[str],
    n_resamples: int,
    seed: int,
) -> dict[tuple[str, str], dict[tuple, np.ndarray]]:
    """(metric, layer) → run (its factor values in ``factors`` order) → test-set resamples of
    ``invariance_ref`` and ``probe_acc`` at the encoder and the projector and the projector's
    ``rankme``; the same resampled images for every run that has a projector, and for every
    metric on the same number of images."""
    counts = functools.cache(lambda n: resample_counts(n, n_resamples, seed))
    resamples = defaultdict(dict)
    runs = zip(run_factors, embeddings_paths, correct_paths, strict=True)
    for values, path, correct_path in runs:
        run = tuple(values[factor] for factor in factors)
        arrays = load_embeddings(path, prefixes=("refviews_", "test_projector"))
        if "test_projector" not in arrays:  # a model trained elsewhere, without a projector
            continue
        correct = load_npz(correct_path, rebuild_hint("analyze_run", correct_path), ("probe_acc_",))
        for layer in LAYERS:
            views = arrays[f"refviews_{layer}"]
            resamples["invariance_ref", layer][run] = invariance_resamples(
                views, counts(len(views))
            )
            right = correct[f"probe_acc_{layer}"]
            resamples["probe_acc", layer][run] = accuracy_resamples(right, counts(len(right)))
        z = arrays["test_projector"]
        resamples["rankme", "projector"][run] = rankme_resamples(z, counts(len(z)))
    return dict(resamples)
