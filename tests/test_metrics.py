"""Each metric against a closed-form answer or a direct loop implementation."""

from collections import Counter

import numpy as np
import pytest

from sslgeom.metrics.invariance import invariance, mean_view_cosine
from sslgeom.metrics.probes import knn_correct, linear_probe_correct
from sslgeom.metrics.spectrum import (
    alpha_req,
    covariance_eigenvalues,
    participation_ratio,
    rankme,
    singular_values,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def orthonormal_columns(rng: np.random.Generator, n_rows: int, n_cols: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n_rows, n_cols)))
    return q


def centred_with_eigenvalues(rng: np.random.Generator, n: int, eigenvalues: np.ndarray):
    """Z = U diag(sqrt(N λ)) with orthonormal, zero-mean columns U: covariance diag(λ)."""
    basis = np.column_stack([np.ones(n), rng.standard_normal((n, eigenvalues.size))])
    u = np.linalg.qr(basis)[0][:, 1:]
    return u * np.sqrt(n * eigenvalues)


# --- spectrum ---------------------------------------------------------------------------


def test_singular_values_descending_and_centring(rng):
    z = rng.standard_normal((50, 8)) + 3.0
    uncentred = singular_values(z, center=False)
    centred = singular_values(z, center=True)
    assert np.all(np.diff(uncentred) <= 0)
    np.testing.assert_allclose(
        centred, np.linalg.svd(z - z.mean(axis=0), compute_uv=False), rtol=1e-12
    )
    assert uncentred[0] > centred[0]


@pytest.mark.parametrize("rank", [1, 3, 10])
def test_rankme_of_rank_k_matrix_with_equal_singular_values(rng, rank):
    z = 2.5 * orthonormal_columns(rng, 100, rank) @ orthonormal_columns(rng, 40, rank).T
    assert rankme(z) == pytest.approx(rank, rel=1e-3)


def test_rankme_matches_loop_reference(rng):
    z = rng.standard_normal((60, 20)) @ rng.standard_normal((20, 20)) + 1.0
    sigma = np.linalg.svd(z, compute_uv=False)
    entropy = 0.0
    for s in sigma:
        p = s / sigma.sum() + 1e-7
        entropy -= p * np.log(p)
    assert rankme(z.astype(np.float32)) == pytest.approx(np.exp(entropy), rel=1e-6)


def test_covariance_eigenvalues_match_numpy_covariance(rng):
    z = rng.standard_normal((30, 50))
    expected = np.sort(np.clip(np.linalg.eigvalsh(np.cov(z.T, bias=True)), 0, None))[::-1]
    eigenvalues = covariance_eigenvalues(z)
    assert eigenvalues.shape == (50,)
    np.testing.assert_allclose(eigenvalues, expected, atol=1e-10)


def test_participation_ratio_of_isotropic_gaussian_is_dimension(rng):
    assert participation_ratio(rng.standard_normal((40_000, 16))) == pytest.approx(16, rel=0.02)


def test_participation_ratio_of_rank_one_matrix_is_one(rng):
    z = np.outer(rng.standard_normal(200), rng.standard_normal(12))
    assert participation_ratio(z) == pytest.approx(1.0, rel=1e-9)


def test_participation_ratio_for_known_eigenvalues(rng):
    eigenvalues = np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    z = centred_with_eigenvalues(rng, 300, eigenvalues)
    expected = eigenvalues.sum() ** 2 / np.sum(eigenvalues**2)
    assert participation_ratio(z) == pytest.approx(expected, rel=1e-10)


def test_participation_ratio_rejects_zero_variance():
    with pytest.raises(ValueError):
        participation_ratio(np.ones((10, 4)))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_alpha_req_recovers_power_law_exponent(rng, alpha):
    eigenvalues = np.arange(1, 33, dtype=np.float64) ** -alpha
    z = centred_with_eigenvalues(rng, 500, eigenvalues)
    assert alpha_req(z, first_index=1, last_index=32) == pytest.approx(alpha, abs=1e-6)
    assert alpha_req(z, first_index=5, last_index=20) == pytest.approx(alpha, abs=1e-6)


def test_alpha_req_clips_last_index_to_non_zero_eigenvalues(rng):
    eigenvalues = np.concatenate([np.arange(1, 11, dtype=np.float64) ** -1.5, np.zeros(6)])
    z = centred_with_eigenvalues(rng, 200, eigenvalues)
    assert alpha_req(z, first_index=1, last_index=1000) == pytest.approx(1.5, abs=1e-6)


def test_alpha_req_needs_two_indices(rng):
    z = rng.standard_normal((100, 8))
    with pytest.raises(ValueError):
        alpha_req(z, first_index=8, last_index=8)
    with pytest.raises(ValueError):
        alpha_req(np.outer(rng.standard_normal(50), np.ones(8)), first_index=1, last_index=8)


# --- invariance -------------------------------------------------------------------------


def test_invariance_of_identical_views_is_one(rng):
    views = np.repeat(rng.standard_normal((40, 1, 6)), 4, axis=1)
    assert invariance(views) == pytest.approx(1.0, abs=1e-12)


def test_invariance_of_sample_independent_views_is_near_zero(rng):
    n_views = 50
    views = rng.standard_normal((400, n_views, 8))
    # The ddof = 0 within-sample variance is biased by (V - 1)/V, so the expectation is 1/V.
    assert invariance(views) == pytest.approx(1 / n_views, abs=0.01)
    assert abs(invariance(views)) < 0.05


def test_invariance_matches_double_loop_reference(rng):
    views = rng.standard_normal((7, 3, 5)) + rng.standard_normal((7, 1, 5))
    n_samples, n_views, n_dims = views.shape
    rows = views.reshape(-1, n_dims)
    within, total = 0.0, 0.0
    for dim in range(n_dims):
        column_mean = sum(rows[:, dim]) / len(rows)
        total += sum((x - column_mean) ** 2 for x in rows[:, dim]) / len(rows)
        for sample in range(n_samples):
            sample_mean = sum(views[sample, :, dim]) / n_views
            squares = sum((x - sample_mean) ** 2 for x in views[sample, :, dim])
            within += squares / n_views / n_samples
    assert invariance(views) == pytest.approx(1 - within / total, rel=1e-10)


def test_invariance_rejects_zero_total_variance():
    with pytest.raises(ValueError):
        invariance(np.ones((5, 3, 4)))


def test_mean_view_cosine_of_identical_views_is_one(rng):
    views = np.repeat(rng.standard_normal((30, 1, 6)), 5, axis=1)
    assert mean_view_cosine(views) == pytest.approx(1.0, abs=1e-12)


def test_mean_view_cosine_of_antipodal_pairs_is_minus_one(rng):
    v = rng.standard_normal((30, 6))
    assert mean_view_cosine(np.stack([v, -v], axis=1)) == pytest.approx(-1.0, abs=1e-12)


def test_mean_view_cosine_matches_pairwise_loop(rng):
    views = rng.standard_normal((6, 4, 5))
    per_sample = []
    for sample_views in views:
        cosines = [
            a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
            for i, a in enumerate(sample_views)
            for b in sample_views[i + 1 :]
        ]
        per_sample.append(np.mean(cosines))
    assert mean_view_cosine(views) == pytest.approx(np.mean(per_sample), rel=1e-10)


# --- probes -----------------------------------------------------------------------------


def gaussian_blobs(rng, n_per_class: int, n_classes: int, n_dims: int, spread: float):
    labels = np.repeat(np.arange(n_classes), n_per_class)
    centres = 10.0 * np.eye(n_classes, n_dims)
    z = centres[labels] + spread * rng.standard_normal((labels.size, n_dims))
    return z, labels


def test_linear_probe_on_separable_blobs_is_perfect(rng):
    train_z, train_y = gaussian_blobs(rng, 100, 4, 8, spread=0.5)
    test_z, test_y = gaussian_blobs(rng, 50, 4, 8, spread=0.5)
    assert linear_probe_correct(train_z, train_y, test_z, test_y).all()


def test_linear_probe_on_random_labels_is_chance(rng):
    train_z, test_z = rng.standard_normal((1000, 5)), rng.standard_normal((2000, 5))
    train_y, test_y = rng.integers(0, 2, 1000), rng.integers(0, 2, 2000)
    assert linear_probe_correct(train_z, train_y, test_z, test_y).mean() == pytest.approx(
        0.5, abs=0.05
    )


def test_knn_on_separable_clusters_is_perfect(rng):
    train_z, train_y = gaussian_blobs(rng, 60, 5, 10, spread=0.5)
    test_z, test_y = gaussian_blobs(rng, 30, 5, 10, spread=0.5)
    assert knn_correct(train_z, train_y + 7, test_z, test_y + 7, k=20).all()


def knn_predictions_by_loop(train_z, train_y, test_z, k):
    predictions = []
    for query in test_z:
        similarities = [query @ x / (np.linalg.norm(query) * np.linalg.norm(x)) for x in train_z]
        nearest = sorted(range(len(train_z)), key=lambda j: -similarities[j])[:k]
        votes = Counter(train_y[j] for j in nearest)
        best = max(votes.values())
        predictions.append(next(train_y[j] for j in nearest if votes[train_y[j]] == best))
    return np.array(predictions)


@pytest.mark.parametrize("k", [1, 4, 7])
def test_knn_matches_loop_reference(rng, k):
    train_z, train_y = rng.standard_normal((80, 6)), rng.integers(0, 4, 80)
    test_z = rng.standard_normal((300, 6))
    expected = knn_predictions_by_loop(train_z, train_y, test_z, k)
    for test_y in (expected, rng.integers(0, 4, 300)):
        correct = knn_correct(train_z, train_y, test_z, test_y, k=k)
        np.testing.assert_array_equal(correct, expected == test_y)


def test_knn_tie_goes_to_most_similar_neighbour():
    train_z = np.array([[1.0, 0.1], [1.0, 0.5]])
    train_y = np.array([9, 2])
    test_z = np.array([[1.0, 0.0], [0.5, 1.0]])
    assert knn_correct(train_z, train_y, test_z, np.array([9, 2]), k=2).all()
