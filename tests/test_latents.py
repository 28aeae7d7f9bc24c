"""Latent recovery: target encodings, held-out linear and kernel ridge R² and MCC against exact
cases, closed forms and sklearn."""

import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.preprocessing import StandardScaler

from sslgeom.data.shapes import CATEGORICAL_LATENTS, LATENT_NAMES, LATENT_PERIODS, sample_latents
from sslgeom.metrics.latents import (
    kernel_ridge_r2,
    latent_r2_by_name,
    linear_r2,
    mean_correlation_coefficient,
    regression_targets,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_shapes_constants_name_shapes_latents():
    assert set(LATENT_PERIODS) | set(CATEGORICAL_LATENTS) <= set(LATENT_NAMES)
    assert LATENT_PERIODS["rotation"] == 2 * math.pi


def test_categorical_latent_is_one_hot():
    latents = np.array([[2.0, 0.5], [0.0, 0.1], [1.0, 0.3], [2.0, 0.2]])
    targets = regression_targets(latents, ["shape", "x"], {}, ["shape"])
    np.testing.assert_array_equal(targets["shape"], np.eye(3)[[2, 0, 1, 2]])
    np.testing.assert_array_equal(targets["x"], latents[:, 1:])


def test_categorical_latent_must_be_integer():
    with pytest.raises(ValueError, match="integers"):
        regression_targets(np.array([[0.5]]), ["shape"], {}, ["shape"])


def test_periodic_latent_wraps_around():
    hues = np.array([[0.01], [0.99], [0.5], [0.25]])
    targets = regression_targets(hues, ["hue"], {"hue": 1.0}, ())["hue"]
    np.testing.assert_allclose(targets[3], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(targets, axis=1), 1.0)
    assert np.linalg.norm(targets[0] - targets[1]) < 0.13  # 2 sin(0.02 π)
    assert np.linalg.norm(targets[0] - targets[2]) > 1.9


def test_unknown_or_conflicting_names_are_rejected():
    latents = np.zeros((2, 2))
    with pytest.raises(ValueError, match="unknown"):
        regression_targets(latents, ["a", "b"], {"c": 1.0}, ())
    with pytest.raises(ValueError, match="both"):
        regression_targets(latents, ["a", "b"], {"a": 1.0}, ["a"])
    with pytest.raises(ValueError, match="shape"):
        regression_targets(latents, ["a"], {}, ())


def test_invertible_linear_map_of_targets_has_r2_one(rng):
    targets = rng.standard_normal((600, 4))
    mixing = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    z = targets @ mixing + rng.standard_normal(4)
    r2 = linear_r2(z[:400], targets[:400], z[400:], targets[400:], alpha=1e-8)
    assert r2 == pytest.approx(1.0, abs=1e-6)


def test_independent_noise_has_r2_near_zero(rng):
    targets = rng.standard_normal((40_000, 3))
    z = rng.standard_normal((40_000, 16))
    r2 = linear_r2(z[:20_000], targets[:20_000], z[20_000:], targets[20_000:])
    assert abs(r2) <= 0.05


def test_r2_by_name_matches_direct_sklearn(rng):
    train_latents, test_latents = sample_latents(300, rng), sample_latents(200, rng)
    projection = rng.standard_normal((len(LATENT_NAMES), 12))
    train_z = np.tanh(train_latents @ projection) + 0.1 * rng.standard_normal((300, 12))
    test_z = np.tanh(test_latents @ projection) + 0.1 * rng.standard_normal((200, 12))
    r2 = latent_r2_by_name(
        train_z, train_latents, test_z, test_latents, LATENT_NAMES,
        LATENT_PERIODS, CATEGORICAL_LATENTS, alpha=0.5,
    )  # fmt: skip
    assert list(r2) == list(LATENT_NAMES)
    scaler = StandardScaler().fit(train_z)
    for index, name in enumerate(LATENT_NAMES):
        train_y, test_y = train_latents[:, index], test_latents[:, index]
        if name == "shape":
            train_y, test_y = (np.eye(5)[y.astype(int)] for y in (train_y, test_y))
        elif name in LATENT_PERIODS:
            train_y, test_y = (
                np.column_stack([np.cos(a), np.sin(a)])
                for a in (2 * np.pi * y / LATENT_PERIODS[name] for y in (train_y, test_y))
            )
        ridge = Ridge(alpha=0.5).fit(scaler.transform(train_z), train_y)
        expected = r2_score(test_y, ridge.predict(scaler.transform(test_z)))
        assert r2[name] == pytest.approx(expected, abs=1e-12)


def sklearn_r2(train_z, train_y, test_z, test_y, alpha=1.0) -> float:
    scaler = StandardScaler().fit(train_z)
    ridge = Ridge(alpha=alpha).fit(scaler.transform(train_z), train_y)
    return r2_score(test_y, ridge.predict(scaler.transform(test_z)))


def test_one_hot_columns_agree_when_a_class_is_missing_from_test(rng):
    train_latents = np.arange(60.0)[:, None] % 3
    test_latents = np.zeros((20, 1))
    train_z = np.eye(3)[train_latents[:, 0].astype(int)] + 0.01 * rng.standard_normal((60, 3))
    test_z = np.eye(3)[[0] * 20] + 0.01 * rng.standard_normal((20, 3))
    r2 = latent_r2_by_name(train_z, train_latents, test_z, test_latents, ["c"], {}, ["c"])
    # three one-hot columns in both splits, though the test split holds class 0 only
    expected = sklearn_r2(train_z, np.eye(3)[[0, 1, 2] * 20], test_z, np.eye(3)[[0] * 20])
    assert r2["c"] == pytest.approx(expected, abs=1e-12)


# --- kernel ridge ----------------------------------------------------------------------------


def test_kernel_ridge_matches_closed_form_with_centred_targets(rng):
    train_z, test_z = rng.normal(3.0, 2.0, (60, 3)), rng.normal(3.0, 2.0, (40, 3))
    weights = rng.standard_normal((3, 2))
    train_y, test_y = (np.sin(z @ weights) + np.array([5.0, -2.0]) for z in (train_z, test_z))
    mean, std = train_z.mean(axis=0), train_z.std(axis=0)
    train_s, test_s = (train_z - mean) / std, (test_z - mean) / std
    kernel = rbf_kernel(train_s, train_s, gamma=1 / 3)
    coefficients = np.linalg.solve(0.5 * np.eye(60) + kernel, train_y - train_y.mean(axis=0))
    predicted = rbf_kernel(test_s, train_s, gamma=1 / 3) @ coefficients + train_y.mean(axis=0)
    expected = r2_score(test_y, predicted)
    assert kernel_ridge_r2(train_z, train_y, test_z, test_y, alpha=0.5) == pytest.approx(
        expected, abs=1e-10
    )


def test_kernel_ridge_fits_a_seeded_subset_of_at_most_max_train_rows(rng):
    train_z, train_y = rng.standard_normal((80, 2)), rng.standard_normal(80)
    test_z, test_y = rng.standard_normal((30, 2)), rng.standard_normal(30)
    rows = np.random.default_rng(3).choice(80, 50, replace=False)
    subset = kernel_ridge_r2(train_z[rows], train_y[rows], test_z, test_y, max_train=50)
    assert kernel_ridge_r2(train_z, train_y, test_z, test_y, max_train=50, seed=3) == subset
    assert kernel_ridge_r2(train_z, train_y, test_z, test_y, max_train=50, seed=4) != subset


def test_kernel_ridge_beats_linear_on_a_nonlinear_target(rng):
    train_x, test_x = rng.uniform(-2, 2, (300, 1)), rng.uniform(-2, 2, (200, 1))
    train_y, test_y = np.sin(3 * train_x[:, 0]), np.sin(3 * test_x[:, 0])
    kernel = kernel_ridge_r2(train_x, train_y, test_x, test_y, alpha=0.01)
    linear = linear_r2(train_x, train_y, test_x, test_y)
    assert kernel > 0.95
    assert linear < 0.2


def test_r2_by_name_takes_the_scorer(rng):
    train_latents, test_latents = sample_latents(120, rng), sample_latents(80, rng)
    train_z = train_latents @ rng.standard_normal((len(LATENT_NAMES), 5))
    test_z = test_latents @ rng.standard_normal((len(LATENT_NAMES), 5))
    r2 = latent_r2_by_name(
        train_z, train_latents, test_z, test_latents, LATENT_NAMES,
        LATENT_PERIODS, CATEGORICAL_LATENTS, alpha=0.3, score=kernel_ridge_r2,
    )  # fmt: skip
    targets = regression_targets(
        np.concatenate([train_latents, test_latents]),
        LATENT_NAMES,
        LATENT_PERIODS,
        CATEGORICAL_LATENTS,
    )
    for name, target in targets.items():
        expected = kernel_ridge_r2(train_z, target[:120], test_z, target[120:], alpha=0.3)
        assert r2[name] == expected


# --- mean correlation coefficient ------------------------------------------------------------


def test_mcc_of_permuted_sign_flipped_affine_copy_is_one(rng):
    latents = rng.standard_normal((200, 4))
    z = latents[:, [2, 0, 3, 1]] * np.array([-1.0, 2.0, -0.5, 3.0]) + 7.0
    assert mean_correlation_coefficient(z, latents) == pytest.approx(1.0, abs=1e-12)


def test_mcc_ignores_extra_noise_dimensions(rng):
    latents = rng.standard_normal((500, 3))
    z = np.column_stack([rng.standard_normal((500, 5)), -latents[:, ::-1]])
    assert mean_correlation_coefficient(z, latents) == pytest.approx(1.0, abs=1e-12)


def test_mcc_of_known_correlation(rng):
    """z_j = ρ l_j + √(1 − ρ²) ε_j has corr(l_j, z_j) = ρ; sample s.e. (1 − ρ²)/√N ≈ 0.005."""
    rho, latents = 0.6, rng.standard_normal((20_000, 3))
    z = rho * latents + np.sqrt(1 - rho**2) * rng.standard_normal((20_000, 3))
    assert mean_correlation_coefficient(z, latents) == pytest.approx(rho, abs=0.015)


def test_mcc_constant_columns_correlate_zero(rng):
    signal = rng.standard_normal(100)
    latents = np.column_stack([signal, np.full(100, 0.3)])
    z = np.column_stack([np.full(100, 0.3), 2 * signal, np.zeros(100)])
    assert mean_correlation_coefficient(z, latents) == pytest.approx(0.5, abs=1e-12)


def test_mcc_counts_latents_without_a_dimension_as_zero(rng):
    latents = rng.standard_normal((100, 3))
    z = -2 * latents[:, [2, 0]]
    assert mean_correlation_coefficient(z, latents) == pytest.approx(2 / 3, abs=1e-12)


def test_mcc_rejects_mismatched_rows(rng):
    with pytest.raises(ValueError, match="N × d and N × m"):
        mean_correlation_coefficient(rng.standard_normal((10, 2)), rng.standard_normal((9, 3)))
