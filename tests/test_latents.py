"""Latent recovery: target encodings and held-out ridge R² against exact cases and sklearn."""

import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from sslgeom.data.shapes import CATEGORICAL_LATENTS, LATENT_NAMES, LATENT_PERIODS, sample_latents
from sslgeom.metrics.latents import latent_r2_by_name, linear_r2, regression_targets


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


def test_one_hot_columns_agree_when_a_class_is_missing_from_test(rng):
    train_latents = np.arange(60.0)[:, None] % 3
    test_latents = np.zeros((20, 1))
    train_z = np.eye(3)[train_latents[:, 0].astype(int)] + 0.01 * rng.standard_normal((60, 3))
    test_z = np.eye(3)[[0] * 20] + 0.01 * rng.standard_normal((20, 3))
    r2 = latent_r2_by_name(train_z, train_latents, test_z, test_latents, ["c"], {}, ["c"])
    assert np.isfinite(r2["c"])
