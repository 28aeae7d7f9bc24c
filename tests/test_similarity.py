"""Cross-run similarities against direct N × N Gram, loop and sklearn references, known answers
(rotated copies, invertible maps) and their permutation nulls."""

import functools
import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from sslgeom.metrics.similarity import (
    SIMILARITY_METRICS,
    _CkaNull,
    null_summary,
    pair_similarities,
    permutation_null,
    permutation_orders,
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


@pytest.mark.parametrize("d_a, d_b, by_gram", [(6, 4, False), (200, 150, True)])
def test_permutation_null_equals_similarities_of_reordered_rows(rng, d_a, d_b, by_gram):
    """Every null draw against pair_similarities of the target rebuilt from reordered rows,
    for two sources at once (CKA from the features for narrow layers, from the Gram matrices
    for wide ones)."""
    fit_a, test_a, fit_b, test_b = related_pair(rng, 80, 60, d_a, d_b)
    stats = functools.partial(representation_stats, k=4, ridge_alpha=0.5)
    a, b = stats(fit_a, test_a), stats(fit_b, test_b)
    other = stats(fit_a**2, test_a**2)
    assert _CkaNull([a, other], b).by_gram == by_gram
    shuffles = permutation_orders(60, 3, seed=7)
    null = permutation_null([a, other], b, shuffles, chunk_size=2)
    assert set(null) == {"linear_cka", "debiased_cka", "mutual_knn"}, "the R² has no null"
    for j, order in enumerate(shuffles.orders):
        shuffled_b = stats(fit_b, test_b[order])
        for i, source in enumerate([a, other]):
            expected = pair_similarities(source, shuffled_b)
            for metric in ("linear_cka", "debiased_cka", "mutual_knn"):
                assert null[metric][i, j] == pytest.approx(expected[metric], abs=1e-5), metric


def test_permutation_orders_are_distinct_permutations():
    orders = permutation_orders(50, 20, seed=3).orders
    assert orders.shape == (20, 50)
    assert all(sorted(order) == list(range(50)) for order in orders)
    assert len({tuple(order) for order in orders}) == 20


def test_permutation_null_is_at_chance(rng):
    """Isotropic Gaussian features against a rotated copy, N = 400, d = 8, 200 shuffles.

    Chance values: linear CKA ≈ d / (N + d) (E‖XᵀY‖² = N d², ‖XᵀX‖² ≈ N² d + N d²),
    debiased CKA 0, both with standard deviation ≈ √2 / N per draw; mutual k-NN k / (N − 1),
    its overlap about binomial with standard error √(p(1 − p) / (k N)). Tolerances: 5 standard
    errors of the mean over the draws; the observed value lies above every draw, so its
    p-value is 1 / (n + 1).
    """
    n, d, k, draws = 400, 8, 10, 200
    fit, test = rng.standard_normal((300, d)), rng.standard_normal((n, d))
    rotation = random_rotation(rng, d)
    a = representation_stats(fit, test, k=k)
    b = representation_stats(fit @ rotation, test @ rotation, k=k)
    observed = pair_similarities(a, b)
    assert observed["debiased_cka"] == pytest.approx(1.0)
    null = {m: v[0] for m, v in permutation_null([a], b, permutation_orders(n, draws, 1)).items()}
    cka_se, p = math.sqrt(2) / n / math.sqrt(draws), k / (n - 1)
    assert null["linear_cka"].mean() == pytest.approx(d / (n + d), abs=5 * cka_se)
    assert null["debiased_cka"].mean() == pytest.approx(0.0, abs=5 * cka_se)
    knn_se = math.sqrt(p * (1 - p) / (k * n * draws))
    assert null["mutual_knn"].mean() == pytest.approx(p, abs=5 * knn_se)
    for metric, values in null.items():
        summary = null_summary(observed[metric], values)
        assert summary["p_value"] == 1 / (draws + 1)
        # the fitted normal's tail resolves what the 200 draws cannot: p far below 1/201
        assert summary["p_normal"] < 1e-6, metric


def test_null_summary_against_closed_forms():
    draws = np.arange(100.0)  # 0, 1, …, 99
    summary = null_summary(89.5, draws)
    assert summary["null_mean"] == 49.5
    assert summary["null_q95"] == pytest.approx(94.05)  # linear interpolation at 0.95 · 99
    assert summary["p_value"] == pytest.approx((1 + 10) / 101)  # 90, …, 99 reach 89.5
    assert null_summary(-1.0, draws)["p_value"] == 1.0
    sd = math.sqrt(sum((x - 49.5) ** 2 for x in range(100)) / 99)  # 29.01…
    assert summary["null_sd"] == pytest.approx(sd)
    assert summary["null_z"] == pytest.approx((89.5 - 49.5) / sd)
    # the upper tail of a standard normal at z, 1 − Φ(z) = erfc(z / √2) / 2
    assert summary["p_normal"] == pytest.approx(math.erfc((40 / sd) / math.sqrt(2)) / 2)
    assert all(math.isnan(v) for v in null_summary(0.3, None).values()), "no null, no summary"


def test_unrelated_representations_have_uniform_p_values(rng):
    """Under the null (independent features) the p-value is uniform: P(p ≤ 0.2) ≈ 0.2."""
    n, d, draws, repeats = 60, 3, 19, 150
    small = []
    for _ in range(repeats):
        a, b = (
            representation_stats(rng.standard_normal((40, d)), rng.standard_normal((n, d)), k=5)
            for _ in range(2)
        )
        null = permutation_null([a], b, permutation_orders(n, draws, int(rng.integers(1e9))))
        small.append(null_summary(pair_similarities(a, b)["linear_cka"], null["linear_cka"][0]))
    rate = np.mean([s["p_value"] <= 0.2 for s in small])
    assert rate == pytest.approx(0.2, abs=4 * math.sqrt(0.2 * 0.8 / repeats))


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
