"""Tests for sslgeom.data.vectors: the latents, the mixing network, the conditionals of the
positive pairs, and the dataset builder."""

import math

import numpy as np
import pytest
import torch
from scipy.special import ive
from scipy.stats import truncnorm
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor

from sslgeom.data import load_dataset, save_dataset
from sslgeom.data.vectors import (
    LATENT_SPACES,
    make_vectors,
    mix,
    mixing_weights,
    sample_marginal,
    unmix,
)
from sslgeom.training.conditionals import (
    change_style,
    mixing_network,
    sample_truncated,
    sample_vmf,
)

# The slope of the leaky ReLUs in the paper's mixing networks, written out independently here.
PAPER_SLOPE = 0.2
N_MONTE_CARLO = 20_000


def reference_mix(latents: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """x = W_L σ(… σ(W_1 z)) in plain numpy, with σ the leaky ReLU of slope PAPER_SLOPE."""
    hidden = latents @ weights[0].T
    for weight in weights[1:]:
        hidden = np.where(hidden > 0, hidden, PAPER_SLOPE * hidden) @ weight.T
    return hidden


def unit_rows(n: int, dim: int, seed: int) -> torch.Tensor:
    """``n`` random unit vectors (float64, n×dim), drawn from their own generator."""
    generator = torch.Generator().manual_seed(seed)
    gaussians = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    return gaussians / torch.linalg.norm(gaussians, dim=1, keepdim=True)


def assert_within_standard_errors(samples: torch.Tensor, expected: float, n_errors: float = 4):
    """The mean of ``samples`` lies within ``n_errors`` standard errors of ``expected``."""
    samples = samples.double()
    standard_error = samples.std().item() / math.sqrt(len(samples))
    assert abs(samples.mean().item() - expected) <= n_errors * standard_error


# Marginals


def test_sphere_marginal_is_uniform_on_the_unit_sphere():
    latents = sample_marginal(N_MONTE_CARLO, 4, "sphere", np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.norm(latents, axis=1), 1.0, atol=1e-12)
    # Uniform on S^(d−1): mean 0 and second moment I / d.
    np.testing.assert_allclose(latents.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(latents.T @ latents / len(latents), np.eye(4) / 4, atol=0.01)


def test_box_marginal_is_uniform_in_the_unit_cube():
    latents = sample_marginal(N_MONTE_CARLO, 4, "box", np.random.default_rng(0))
    assert latents.dtype == np.float64
    assert latents.min() >= 0 and latents.max() <= 1
    np.testing.assert_allclose(latents.mean(axis=0), 0.5, atol=0.01)
    np.testing.assert_allclose(latents.var(axis=0), 1 / 12, atol=0.005)


def test_unknown_latent_space_is_rejected():
    with pytest.raises(ValueError, match="space"):
        sample_marginal(3, 2, "torus", np.random.default_rng(0))


# von Mises–Fisher


@pytest.mark.parametrize(("dim", "kappa"), [(3, 1.0), (10, 1.0), (10, 10.0), (10, 50.0)])
def test_vmf_mean_resultant_length_matches_bessel_ratio(dim, kappa):
    torch.manual_seed(0)
    means = unit_rows(N_MONTE_CARLO, dim, seed=1)
    samples = sample_vmf(means, kappa)
    np.testing.assert_allclose(torch.linalg.norm(samples, dim=1), 1.0, atol=1e-12)
    # E[μᵀx] = A_d(κ) = I_(d/2)(κ) / I_(d/2−1)(κ); the exponential scalings of ive cancel.
    expected = ive(dim / 2, kappa) / ive(dim / 2 - 1, kappa)
    assert_within_standard_errors((samples * means).sum(dim=1), expected)


def test_vmf_tangential_component_averages_to_zero():
    torch.manual_seed(0)
    mean_direction = unit_rows(1, 5, seed=2)
    means = mean_direction.expand(N_MONTE_CARLO, 5)
    samples = sample_vmf(means, kappa=5.0)
    tangential = samples - (samples @ mean_direction.T) * mean_direction
    for coordinate in tangential.T:
        assert_within_standard_errors(coordinate, 0.0)


def test_vmf_rows_follow_their_own_means():
    torch.manual_seed(0)
    first_axis = torch.eye(4)[0]
    means = torch.cat([first_axis.expand(1000, 4), -first_axis.expand(1000, 4)])
    samples = sample_vmf(means, kappa=20.0)
    assert samples[:1000, 0].mean() > 0.9
    assert samples[1000:, 0].mean() < -0.9


def test_vmf_is_reproducible_from_the_torch_seed_and_keeps_the_dtype():
    means = unit_rows(100, 6, seed=3).float()
    torch.manual_seed(7)
    first = sample_vmf(means, kappa=3.0)
    torch.manual_seed(7)
    second = sample_vmf(means, kappa=3.0)
    third = sample_vmf(means, kappa=3.0)
    assert first.dtype == torch.float32 and first.device == means.device
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not torch.equal(second, third)


def test_vmf_rejects_a_non_positive_kappa():
    with pytest.raises(ValueError, match="kappa"):
        sample_vmf(unit_rows(2, 3, seed=0), kappa=0.0)


# Truncated normal


def test_truncated_normal_stays_in_its_interval():
    torch.manual_seed(0)
    centre = torch.rand(N_MONTE_CARLO)
    samples = sample_truncated(centre, 0.5, low=0.0, high=1.0)
    assert samples.min() >= 0 and samples.max() <= 1
    assert samples.shape == centre.shape


def test_truncated_normal_far_from_the_bounds_is_the_normal():
    torch.manual_seed(0)
    sigma = 0.05
    samples = sample_truncated(torch.full((N_MONTE_CARLO,), 0.5, dtype=torch.float64), sigma)
    assert_within_standard_errors(samples, 0.5)
    # The standard error of a sample standard deviation is about σ / √(2n).
    assert abs(samples.std().item() - sigma) <= 4 * sigma / math.sqrt(2 * N_MONTE_CARLO)


def test_truncated_normal_at_the_lower_bound_has_the_half_normal_mean():
    torch.manual_seed(0)
    sigma = 0.1
    samples = sample_truncated(torch.zeros(N_MONTE_CARLO, dtype=torch.float64), sigma)
    assert_within_standard_errors(samples, sigma * math.sqrt(2 / math.pi))


def test_truncated_normal_cut_on_both_sides_matches_scipy():
    torch.manual_seed(0)
    centre, sigma, low, high = 0.2, 0.5, 0.0, 1.0
    samples = sample_truncated(
        torch.full((N_MONTE_CARLO,), centre, dtype=torch.float64), sigma, "normal", low, high
    )
    a, b = (low - centre) / sigma, (high - centre) / sigma
    assert_within_standard_errors(samples, truncnorm.mean(a, b, loc=centre, scale=sigma))


def test_truncated_normal_is_reproducible_from_the_torch_seed():
    centre = torch.linspace(0, 1, 50)
    torch.manual_seed(3)
    first = sample_truncated(centre, 0.3)
    torch.manual_seed(3)
    torch.testing.assert_close(sample_truncated(centre, 0.3), first, rtol=0, atol=0)


def test_truncated_normal_rejects_a_centre_outside_the_interval():
    with pytest.raises(ValueError, match="centre"):
        sample_truncated(torch.tensor([0.5, 1.5]), 0.1)
    with pytest.raises(ValueError, match="unknown distribution 'cauchy'"):
        sample_truncated(torch.tensor([0.5]), 0.1, "cauchy")


# Truncated Laplace


def test_truncated_laplace_far_from_the_bounds_is_the_laplace():
    torch.manual_seed(0)
    scale = 0.05
    samples = sample_truncated(
        torch.full((N_MONTE_CARLO,), 0.5, dtype=torch.float64), scale, "laplace"
    )
    assert_within_standard_errors(samples, 0.5)
    # Laplace(b): E|x − μ| = b and Var = 2b², so the mean absolute deviation has sd b.
    deviation = (samples - 0.5).abs()
    assert abs(deviation.mean().item() - scale) <= 4 * scale / math.sqrt(N_MONTE_CARLO)
    assert abs(samples.var().item() - 2 * scale**2) <= 4 * scale**2 * math.sqrt(20 / N_MONTE_CARLO)


def test_truncated_laplace_at_the_lower_bound_is_the_exponential():
    torch.manual_seed(0)
    scale = 0.1
    samples = sample_truncated(torch.zeros(N_MONTE_CARLO, dtype=torch.float64), scale, "laplace")
    # folded at 0 the Laplace is an exponential of mean b (its tail beyond 1 is e^−10)
    assert_within_standard_errors(samples, scale)


def test_truncated_laplace_cut_on_both_sides_matches_numerical_integration():
    torch.manual_seed(0)
    centre, scale, low, high = 0.2, 0.5, 0.0, 1.0
    samples = sample_truncated(
        torch.full((N_MONTE_CARLO,), centre, dtype=torch.float64), scale, "laplace", low, high
    )
    grid = np.linspace(low, high, 200_001)
    density = np.exp(-np.abs(grid - centre) / scale)
    assert_within_standard_errors(
        samples, np.trapezoid(grid * density, grid) / np.trapezoid(density, grid)
    )


# Content and style


@pytest.mark.parametrize("change_prob", [1.0, 0.75, 0.0])
def test_change_style_keeps_content_and_moves_each_style_coordinate_with_its_probability(
    change_prob,
):
    torch.manual_seed(0)
    latents = torch.from_numpy(
        sample_marginal(N_MONTE_CARLO, 10, "normal", np.random.default_rng(0))
    )
    positive = change_style(latents, content_dim=4, change_prob=change_prob)
    assert torch.equal(positive[:, :4], latents[:, :4])
    steps = (positive - latents)[:, 4:]
    moved = steps != 0
    share = moved.double().mean().item()
    # a Bernoulli(p) share over 6N coordinates, within 4 standard errors
    assert abs(share - change_prob) <= 4 * math.sqrt(
        change_prob * (1 - change_prob) / steps.numel()
    )
    if change_prob > 0:
        # the moves are standard normal: mean 0, variance 1 (sd of a sample variance ≈ √(2/n))
        values = steps[moved]
        assert_within_standard_errors(values, 0.0)
        assert abs(values.var().item() - 1) <= 4 * math.sqrt(2 / len(values))


def test_change_style_needs_content_and_style():
    latents = torch.zeros(3, 4)
    for content_dim in (0, 4):
        with pytest.raises(ValueError, match="content_dim must leave content and style"):
            change_style(latents, content_dim, 0.5)
    with pytest.raises(ValueError, match="change_prob"):
        change_style(latents, 2, 1.5)


def test_normal_latents_are_named_content_then_style():
    dataset = make_vectors(20, 5, seed=0, latent_dim=5, space="normal", content_latents=2)
    assert dataset.latent_names == ("c1", "c2", "s1", "s2", "s3")
    assert dataset.generator["content_latents"] == 2
    for space, content in (("normal", None), ("box", 2), ("normal", 5)):
        with pytest.raises(ValueError, match="content_latents"):
            make_vectors(20, 5, seed=0, latent_dim=5, space=space, content_latents=content)


def test_normal_latents_are_standard_normal():
    latents = sample_marginal(N_MONTE_CARLO, 3, "normal", np.random.default_rng(0))
    np.testing.assert_allclose(latents.mean(axis=0), 0, atol=4 / math.sqrt(N_MONTE_CARLO))
    np.testing.assert_allclose(latents.std(axis=0), 1, atol=4 / math.sqrt(2 * N_MONTE_CARLO))


# Mixing network


def test_mixing_layers_have_unit_columns_and_are_better_conditioned_than_typical_draws():
    weights = mixing_weights(10, 3, seed=0)
    # The median condition number of fresh draws from the same recipe; the best of 1000 draws
    # must beat it (it beats the median unless all 1000 candidates were above it).
    draws = np.random.default_rng(123).uniform(-1, 1, size=(1000, 10, 10))
    draws /= np.linalg.norm(draws, axis=1, keepdims=True)
    median_condition = np.median(np.linalg.cond(draws))
    assert len(weights) == 3
    for weight in weights:
        assert weight.shape == (10, 10) and weight.dtype == np.float64
        np.testing.assert_allclose(np.linalg.norm(weight, axis=0), 1.0, atol=1e-12)
        assert np.linalg.cond(weight) <= median_condition


def test_mixing_weights_are_deterministic_in_the_seed():
    first, again, other = (mixing_weights(5, 2, seed) for seed in (4, 4, 5))
    for weight, same, different in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(weight, same)
        assert not np.allclose(weight, different)


def test_mix_matches_the_reference_formula_in_any_dtype():
    latents = sample_marginal(50, 6, "sphere", np.random.default_rng(0))
    weights = mixing_weights(6, 3, seed=1)
    expected = reference_mix(latents, weights)
    network = mixing_network(6, 3, seed=1)
    observed = mix(torch.from_numpy(latents).float(), network)
    assert observed.dtype == torch.float32
    np.testing.assert_allclose(observed.numpy(), expected, atol=1e-5)


def test_unmix_inverts_mix():
    latents = sample_marginal(500, 10, "box", np.random.default_rng(0))
    weights = mixing_weights(10, 4, seed=2)
    np.testing.assert_allclose(unmix(mix(latents, weights), weights), latents, rtol=0, atol=1e-5)


def test_mix_of_numpy_arrays_equals_mix_of_tensors():
    latents = sample_marginal(50, 6, "sphere", np.random.default_rng(3))
    weights = mixing_weights(6, 3, seed=1)
    tensors = mix(torch.from_numpy(latents), mixing_network(6, 3, seed=1, dtype=torch.float64))
    np.testing.assert_allclose(mix(latents, weights), tensors.numpy(), rtol=1e-12)


def test_mix_is_not_linear():
    rng = np.random.default_rng(0)
    first, second = (torch.from_numpy(sample_marginal(100, 8, "sphere", rng)) for _ in range(2))
    network = mixing_network(8, 3, seed=0, dtype=torch.float64)
    difference = mix(first + second, network) - mix(first, network) - mix(second, network)
    assert difference.abs().max() > 0.1


# Learning the inverse of g at dimension 5 (at 10 it needs far more than the few seconds this
# test may take); a linear fit falling short shows the mixing is far from linear.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("space", LATENT_SPACES)
def test_inverse_of_the_mixing_can_be_learned_from_samples(space):
    latents = sample_marginal(6000, 5, space, np.random.default_rng(0))
    observations = reference_mix(latents, mixing_weights(5, 3, seed=0))
    observations = (observations - observations.mean(axis=0)) / observations.std(axis=0)
    train, held_out = slice(0, 5000), slice(5000, None)
    regressor = MLPRegressor(hidden_layer_sizes=(32, 32), solver="lbfgs", max_iter=200)
    regressor.set_params(random_state=0).fit(observations[train], latents[train])
    linear = LinearRegression().fit(observations[train], latents[train])
    assert r2_score(latents[held_out], regressor.predict(observations[held_out])) > 0.95
    assert r2_score(latents[held_out], linear.predict(observations[held_out])) < 0.9


# make_vectors


@pytest.fixture(scope="module")
def sphere_vectors():
    return make_vectors(n_train=300, n_test=100, seed=0)


@pytest.fixture(scope="module")
def box_vectors():
    return make_vectors(n_train=300, n_test=100, seed=0, latent_dim=4, space="box")


def test_vectors_have_the_documented_arrays(sphere_vectors):
    dataset = sphere_vectors
    assert dataset.name == "vectors" and not dataset.is_images
    assert dataset.train_images.shape == (300, 10) and dataset.test_images.shape == (100, 10)
    assert dataset.train_images.dtype == np.float32 and dataset.train_latents.dtype == np.float32
    assert dataset.train_labels.dtype == np.int64
    assert dataset.latent_names == tuple(f"z{index}" for index in range(1, 11))
    assert dataset.class_names[0] == "z1 largest" and dataset.num_classes == 10
    assert dataset.generator == {
        "kind": "vectors",
        "space": "sphere",
        "latent_dim": 10,
        "mixing_layers": 3,
        "mixing_seed": 0,
        "mixing_candidates": 1000,
        "content_latents": None,
    }


def test_sphere_vector_latents_are_unit_vectors(sphere_vectors):
    for latents in (sphere_vectors.train_latents, sphere_vectors.test_latents):
        np.testing.assert_allclose(np.linalg.norm(latents, axis=1), 1.0, atol=1e-5)


def test_box_vector_latents_lie_in_the_unit_cube(box_vectors):
    for latents in (box_vectors.train_latents, box_vectors.test_latents):
        assert latents.shape[1] == 4
        assert latents.min() >= 0 and latents.max() <= 1


@pytest.mark.parametrize("split", ["train", "test"])
def test_vector_labels_are_the_largest_latent(sphere_vectors, split):
    latents = getattr(sphere_vectors, f"{split}_latents")
    labels = getattr(sphere_vectors, f"{split}_labels")
    for latent, label in zip(latents, labels, strict=True):
        assert latent[label] == latent.max()


@pytest.mark.parametrize("split", ["train", "test"])
def test_vector_observations_are_the_mixed_latents(box_vectors, split):
    latents = getattr(box_vectors, f"{split}_latents").astype(np.float64)
    expected = reference_mix(latents, mixing_weights(4, 3, seed=0))
    np.testing.assert_allclose(getattr(box_vectors, f"{split}_images"), expected, atol=1e-5)


def test_vectors_are_reproducible_from_the_seed(sphere_vectors):
    again = make_vectors(n_train=300, n_test=100, seed=0)
    other = make_vectors(n_train=300, n_test=100, seed=1)
    for key in ("train_images", "train_labels", "train_latents", "test_images", "test_latents"):
        np.testing.assert_array_equal(getattr(again, key), getattr(sphere_vectors, key))
    assert not np.allclose(other.train_latents, sphere_vectors.train_latents)


def test_vectors_survive_a_save_and_load_round_trip(box_vectors, tmp_path):
    save_dataset(box_vectors, tmp_path / "vectors.npz")
    loaded = load_dataset(tmp_path / "vectors.npz")
    assert loaded.generator == box_vectors.generator
    assert loaded.latent_names == box_vectors.latent_names
    assert loaded.class_names == box_vectors.class_names
    for key in ("train_images", "train_labels", "train_latents", "test_images", "test_latents"):
        np.testing.assert_array_equal(getattr(loaded, key), getattr(box_vectors, key))


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ({"latent_dim": 1}, "latent_dim"),
        ({"mixing_layers": 0}, "mixing_layers"),
        ({"space": "x"}, "space"),
    ],
)
def test_bad_vector_arguments_are_rejected(arguments, name):
    with pytest.raises(ValueError, match=name):
        make_vectors(n_train=10, n_test=5, seed=0, **arguments)
