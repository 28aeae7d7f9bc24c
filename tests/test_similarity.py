"""Cross-run similarities against direct N × N Gram, loop and sklearn references, known answers
(rotated copies, invertible maps) and their permutation nulls."""

import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from sslgeom.metrics.similarity import (
    SIMILARITY_METRICS,
    pair_similarities,
    permuted,
    representation_stats,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def related_pair(rng, n_fit: int, n_test: int, d_a: int = 6, d_b: int = 4):
    """(fit_a, test_a, fit_b, test_b): b a noisy nonlinear function of a; the test rows are
    shifted, so their means differ from the fit means."""
    a = rng.standard_normal((n_fit + n_test, d_a)) * rng.uniform(0.5, 3, d_a) + 2.0
    a[n_fit:] += 0.3
    b = np.tanh(a @ rng.standard_normal((d_a, d_b))) + 0.3 * rng.standard_normal((len(a), d_b))
    return a[:n_fit], a[n_fit:], b[:n_fit], b[n_fit:] - 0.1


def similarities(fit_a, test_a, fit_b, test_b, k=10, alpha=1.0):
    return pair_similarities(
        representation_stats(fit_a, test_a, k=k, ridge_alpha=alpha),
        representation_stats(fit_b, test_b, k=k, ridge_alpha=alpha),
    )


def random_rotation(rng, d: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal((d, d)))[0]


# --- references ----------------------------------------------------------------------------


def centred_hsic(gram_x: np.ndarray, gram_y: np.ndarray) -> float:
    """tr(KHLH), H = I − 11ᵀ/N (the biased HSIC up to a factor, as in linear CKA)."""
    h = np.eye(len(gram_x)) - 1 / len(gram_x)
    return float(np.trace(gram_x @ h @ gram_y @ h))


def unbiased_hsic(gram_x: np.ndarray, gram_y: np.ndarray) -> float:
    """Song et al. 2012, eq. (5), on Gram matrices with zeroed diagonals."""
    n = len(gram_x)
    k, l_ = (gram - np.diag(np.diag(gram)) for gram in (gram_x, gram_y))
    ones = np.ones(n)
    value = (
        np.trace(k @ l_)
        + (ones @ k @ ones) * (ones @ l_ @ ones) / ((n - 1) * (n - 2))
        - 2 / (n - 2) * ones @ k @ l_ @ ones
    )
    return float(value / (n * (n - 3)))


def gram_cka(x: np.ndarray, y: np.ndarray, hsic) -> float:
    gram_x, gram_y = x @ x.T, y @ y.T
    return hsic(gram_x, gram_y) / math.sqrt(hsic(gram_x, gram_x) * hsic(gram_y, gram_y))


def mutual_knn_by_loop(x: np.ndarray, y: np.ndarray, k: int) -> float:
    def neighbour_sets(z):
        unit = z / np.linalg.norm(z, axis=1, keepdims=True)
        sets = []
        for i, u in enumerate(unit):
            others = [j for j in range(len(z)) if j != i]
            sets.append(set(sorted(others, key=lambda j: -(u @ unit[j]))[:k]))
        return sets

    overlaps = [len(p & q) / k for p, q in zip(neighbour_sets(x), neighbour_sets(y), strict=True)]
    return sum(overlaps) / len(overlaps)


def sklearn_ridge_r2(fit_x, test_x, fit_y, test_y, alpha) -> float:
    scaler = StandardScaler().fit(fit_x)
    ridge = Ridge(alpha=alpha).fit(scaler.transform(fit_x), fit_y)
    predicted = ridge.predict(scaler.transform(test_x))
    return float(r2_score(test_y, predicted, multioutput="variance_weighted"))


# --- formulas against the references -------------------------------------------------------


def test_metric_names(rng):
    assert tuple(similarities(*related_pair(rng, 30, 20))) == SIMILARITY_METRICS


def test_linear_cka_matches_gram_matrix_hsic(rng):
    fit_a, test_a, fit_b, test_b = related_pair(rng, 20, 40)
    expected = gram_cka(test_a, test_b, centred_hsic)
    assert 0.1 < expected < 0.95
    assert similarities(fit_a, test_a, fit_b, test_b)["linear_cka"] == pytest.approx(
        expected, rel=1e-10
    )


def test_debiased_cka_matches_unbiased_hsic_of_uncentred_grams(rng):
    fit_a, test_a, fit_b, test_b = related_pair(rng, 20, 40)
    expected = gram_cka(test_a, test_b, unbiased_hsic)
    assert 0.1 < expected < 0.95
    assert similarities(fit_a, test_a, fit_b, test_b)["debiased_cka"] == pytest.approx(
        expected, rel=1e-10
    )


@pytest.mark.parametrize("k", [1, 5])
def test_mutual_knn_matches_set_loop(rng, k):
    fit_a, test_a, fit_b, test_b = related_pair(rng, 20, 60, d_a=3, d_b=3)
    expected = mutual_knn_by_loop(test_a, test_b, k)
    assert 0 < expected < 1
    assert similarities(fit_a, test_a, fit_b, test_b, k=k)["mutual_knn"] == pytest.approx(expected)


def test_ridge_r2_matches_sklearn_both_directions(rng):
    fit_a, test_a, fit_b, test_b = related_pair(rng, 80, 50)
    fit_a[:, 0] = test_a[:, 0] = 0.3  # a constant unit: StandardScaler leaves it at scale 1
    result = similarities(fit_a, test_a, fit_b, test_b, alpha=3.0)
    ab = sklearn_ridge_r2(fit_a, test_a, fit_b, test_b, alpha=3.0)
    ba = sklearn_ridge_r2(fit_b, test_b, fit_a, test_a, alpha=3.0)
    assert 0.1 < ab < 0.99 and 0.1 < ba < 0.99
    assert result["linear_r2_ab"] == pytest.approx(ab, abs=1e-10)
    assert result["linear_r2_ba"] == pytest.approx(ba, abs=1e-10)


# --- known answers -------------------------------------------------------------------------


def test_rotated_scaled_copy_has_cka_one(rng):
    fit, test = (
        rng.standard_normal((30, 5)),
        rng.standard_normal((50, 5)) @ np.diag([4, 2, 1, 1, 0.1]),
    )
    rotation = 3.7 * random_rotation(rng, 5)
    result = similarities(fit, test, fit @ rotation, test @ rotation + 5.0)
    assert result["linear_cka"] == pytest.approx(1.0, abs=1e-12)
    assert result["debiased_cka"] == pytest.approx(1.0, abs=1e-12)


def test_identical_representations_have_mutual_knn_one(rng):
    stats = representation_stats(rng.standard_normal((20, 4)), rng.standard_normal((50, 4)), k=5)
    assert pair_similarities(stats, stats)["mutual_knn"] == 1.0


def test_invertible_linear_map_has_r2_one_both_ways(rng):
    a = rng.standard_normal((500, 6))
    b = a @ (rng.standard_normal((6, 6)) + 3 * np.eye(6)) + rng.standard_normal(6)
    result = similarities(a[:300], a[300:], b[:300], b[300:], alpha=1e-8)
    assert result["linear_r2_ab"] == pytest.approx(1.0, abs=1e-8)
    assert result["linear_r2_ba"] == pytest.approx(1.0, abs=1e-8)


# --- permutation null ----------------------------------------------------------------------


def test_permuted_equals_statistics_of_shuffled_rows(rng):
    fit_a, test_a, fit_b, test_b = related_pair(rng, 40, 60)
    a = representation_stats(fit_a, test_a, k=4, ridge_alpha=0.5)
    b = representation_stats(fit_b, test_b, k=4, ridge_alpha=0.5)
    order = np.random.default_rng(7)
    fit_order, test_order = order.permutation(40), order.permutation(60)
    shuffled = representation_stats(fit_b[fit_order], test_b[test_order], k=4, ridge_alpha=0.5)
    expected = pair_similarities(a, shuffled)
    result = pair_similarities(a, permuted(b, seed=7))
    for name in SIMILARITY_METRICS:
        assert result[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name


def test_permutation_null_is_at_chance(rng):
    """Isotropic Gaussian features against a rotated copy with shuffled rows, N = 400, d = 8.

    Chance values: linear CKA ≈ d / (N + d) (E‖XᵀY‖² = N d², ‖XᵀX‖² ≈ N² d + N d²),
    debiased CKA 0, both with standard deviation ≈ √2 / N; mutual k-NN k / (N − 1), its
    overlap about binomial with standard error √(p(1 − p) / (k N)); ridge R² ≈ 0, slightly
    negative (over-fitting d weights on 300 rows). Tolerances: 5 standard errors.
    """
    n, d, k = 400, 8, 10
    fit, test = rng.standard_normal((300, d)), rng.standard_normal((n, d))
    rotation = random_rotation(rng, d)
    a = representation_stats(fit, test, k=k)
    b = representation_stats(fit @ rotation, test @ rotation, k=k)
    assert pair_similarities(a, b)["debiased_cka"] == pytest.approx(1.0)
    null = pair_similarities(a, permuted(b, seed=1))
    cka_se, p = math.sqrt(2) / n, k / (n - 1)
    assert null["linear_cka"] == pytest.approx(d / (n + d), abs=5 * cka_se)
    assert null["debiased_cka"] == pytest.approx(0.0, abs=5 * cka_se)
    assert null["mutual_knn"] == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / (k * n)))
    assert -0.1 < null["linear_r2_ab"] < 0.02
    assert -0.1 < null["linear_r2_ba"] < 0.02


# --- validation ----------------------------------------------------------------------------


def test_incomparable_or_degenerate_representations_are_rejected(rng):
    fit, test = rng.standard_normal((20, 3)), rng.standard_normal((30, 3))
    stats = representation_stats(fit, test, k=5)
    with pytest.raises(ValueError, match="same fit and test"):
        pair_similarities(stats, representation_stats(fit, test[:25], k=5))
    with pytest.raises(ValueError, match="different k"):
        pair_similarities(stats, representation_stats(fit, test, k=4))
    with pytest.raises(ValueError, match="zero variance"):
        representation_stats(fit, np.ones((30, 3)))
    with pytest.raises(ValueError, match="k < N"):
        representation_stats(fit, test, k=30)
    with pytest.raises(ValueError, match="one d"):
        representation_stats(fit, test[:, :2])
