"""Tangent bases, Jacobian spectra, sensitivity and principal angles on closed-form cases."""

import math

import numpy as np
import pytest

from sslgeom.analyses.geometry import run_geometry
from sslgeom.metrics.subspaces import (
    augmentation_tangent,
    data_span,
    data_tangent,
    jacobian_spectrum_stats,
    orthonormal_basis,
    principal_angles,
    random_subspace,
    random_subspace_in,
    sensitivity,
    top_right_singular_vectors,
)

D_H, D_Z = 6, 4


def orthonormal_columns(d: int, k: int, seed: int) -> np.ndarray:
    return random_subspace(1, d, k, seed)[0]


def unit_vectors(d: int, indices: list[int]) -> np.ndarray:
    return np.eye(d)[:, indices]


def repeated(matrix: np.ndarray, n: int) -> np.ndarray:
    return np.broadcast_to(matrix, (n, *matrix.shape))


# --- projector Jacobian spectrum ----------------------------------------------------------


def test_spectrum_stats_of_equal_singular_values():
    rank = 3
    weight = 2.0 * orthonormal_columns(D_H, rank, seed=0).T  # rank 3, singular values all 2
    stats = jacobian_spectrum_stats(repeated(weight, 4))
    np.testing.assert_allclose(stats["mean_singular_values"], [2.0, 2.0, 2.0], atol=1e-12)
    assert stats["stable_rank"] == pytest.approx(rank)
    assert stats["effective_rank"] == pytest.approx(rank, rel=1e-5)


def test_stable_rank_of_distinct_singular_values_and_zero_jacobian():
    jacobian = np.diag([2.0, 1.0, 0.0])[None]
    assert jacobian_spectrum_stats(jacobian)["stable_rank"] == pytest.approx(5 / 4)
    with pytest.raises(ValueError, match="zero Jacobian"):
        jacobian_spectrum_stats(np.zeros((1, 2, 3)))


def test_top_right_singular_vectors_span_the_kept_directions():
    jacobian = np.zeros((1, 3, 5))
    jacobian[0, [0, 1, 2], [3, 0, 4]] = [3.0, 2.0, 1.0]
    top = top_right_singular_vectors(jacobian, k=2)
    assert top.shape == (1, 5, 2)
    angles = principal_angles(top, unit_vectors(5, [3, 0])[None])
    np.testing.assert_allclose(angles, np.zeros((1, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="exceeds"):
        top_right_singular_vectors(jacobian, k=4)


# --- sensitivity --------------------------------------------------------------------------


def test_sensitivity_of_row_space_and_null_space():
    rank = 2
    full = orthonormal_columns(D_H, D_H, seed=1)
    row_space, null_space = full[:, :rank], full[:, rank:]
    jacobians = row_space.T[None]  # orthonormal rows
    assert sensitivity(jacobians, row_space[None]).item() == pytest.approx(D_H / rank)
    assert sensitivity(jacobians, null_space[None]).item() == pytest.approx(0.0, abs=1e-12)


def test_sensitivity_matches_a_direct_sum_over_the_basis_vectors():
    rng = np.random.default_rng(5)
    jacobians, bases = rng.standard_normal((3, D_Z, D_H)), random_subspace(3, D_H, 2, seed=6)
    expected = [
        sum(np.linalg.norm(j @ basis[:, c]) ** 2 for c in range(2)) / 2 / (np.sum(j**2) / D_H)
        for j, basis in zip(jacobians, bases, strict=True)
    ]
    np.testing.assert_allclose(sensitivity(jacobians, bases), expected)


def test_sensitivity_of_random_subspaces_averages_one():
    jacobian = np.random.default_rng(0).standard_normal((D_Z, 16))
    bases = random_subspace(4000, 16, 3, seed=2)
    rho = sensitivity(repeated(jacobian, 4000), bases)
    assert rho.shape == (4000,)
    assert rho.mean() == pytest.approx(1.0, abs=0.03)


def test_random_subspace_is_orthonormal_and_seeded():
    bases = random_subspace(5, 7, 3, seed=0)
    assert bases.shape == (5, 7, 3) and bases.dtype == np.float64
    np.testing.assert_allclose(np.swapaxes(bases, 1, 2) @ bases, repeated(np.eye(3), 5), atol=1e-12)
    np.testing.assert_array_equal(random_subspace(5, 7, 3, seed=0), bases)
    assert not np.allclose(random_subspace(5, 7, 3, seed=1), bases)


# --- principal angles ---------------------------------------------------------------------


def test_principal_angles_of_identical_and_orthogonal_subspaces():
    basis = orthonormal_columns(5, 2, seed=3)[None]
    np.testing.assert_allclose(principal_angles(basis, basis), np.zeros((1, 2)), atol=1e-6)
    orthogonal = principal_angles(unit_vectors(5, [0, 1])[None], unit_vectors(5, [2, 3])[None])
    np.testing.assert_allclose(orthogonal, np.full((1, 2), math.pi / 2))


def test_principal_angles_of_a_rotation_in_a_plane():
    theta = 0.3
    a = unit_vectors(4, [0, 1])
    b = a.copy()
    b[:, 0] = math.cos(theta) * a[:, 0] + math.sin(theta) * unit_vectors(4, [2])[:, 0]
    np.testing.assert_allclose(principal_angles(a[None], b[None]), [[0.0, theta]], atol=1e-12)


# --- tangent estimates --------------------------------------------------------------------


def test_data_tangent_recovers_a_plane_in_r5():
    rng = np.random.default_rng(0)
    plane = orthonormal_columns(5, 2, seed=4)
    points = rng.random((200, 2)) @ plane.T + 1e-5 * rng.standard_normal((200, 5))
    tangents = data_tangent(points, k=2, n_neighbors=10)
    assert tangents.shape == (200, 5, 2)
    assert principal_angles(tangents, repeated(plane, 200)).max() < 1e-2
    np.testing.assert_array_equal(data_tangent(points, 2, 10, n_rows=30), tangents[:30])


def test_augmentation_tangent_is_the_direction_every_move_lies_along():
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(D_H)
    moves = rng.standard_normal((3, 5, 1)) * direction  # 3 images, 5 draws, one direction
    tangents = augmentation_tangent(moves, k=1)
    assert tangents.shape == (3, D_H, 1)
    expected = repeated((direction / np.linalg.norm(direction))[:, None], 3)
    np.testing.assert_allclose(principal_angles(tangents, expected), np.zeros((3, 1)), atol=1e-6)


def test_orthonormal_basis_spans_the_directions():
    directions = np.array([[[1.0, 1.0], [0.0, 2.0], [0.0, 0.0]]])
    basis = orthonormal_basis(directions)
    np.testing.assert_allclose(np.swapaxes(basis, 1, 2) @ basis, np.eye(2)[None], atol=1e-12)
    angles = principal_angles(basis, unit_vectors(3, [0, 1])[None])
    np.testing.assert_allclose(angles, np.zeros((1, 2)), atol=1e-6)


# --- the data span and its random baseline ------------------------------------------------


def test_data_span_holds_the_requested_variance():
    """Variances 100, 10, 1 along e3, e0, e5 of R^6: 100/111 < 0.99 < 110/111 < 0.999."""
    signs = np.tile([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], (50, 1))  # orthogonal
    h = np.zeros((200, 6))
    h[:, [3, 0, 5]] = signs * np.sqrt([100.0, 10.0, 1.0]) + 7.0
    two = data_span(h, 0.99)
    assert two.shape == (6, 2)
    np.testing.assert_allclose(two @ two.T, np.diag([1.0, 0, 0, 1, 0, 0]), atol=1e-9)
    assert data_span(h, 0.999).shape == (6, 3)
    assert data_span(h, 0.99, min_rank=3).shape == (6, 3)


def test_random_subspaces_in_a_span_lie_in_it_and_are_orthonormal():
    span = unit_vectors(7, [1, 4, 6])
    bases = random_subspace_in(span, 50, 2, seed=3)
    assert bases.shape == (50, 7, 2)
    np.testing.assert_allclose(bases[:, [0, 2, 3, 5], :], 0.0, atol=1e-12)
    gram = np.swapaxes(bases, 1, 2) @ bases
    np.testing.assert_allclose(gram, repeated(np.eye(2), 50), atol=1e-12)
    with pytest.raises(ValueError, match="inside a 3-dimensional span"):
        random_subspace_in(span, 5, 4, seed=0)


def test_run_geometry_compares_each_family_with_baselines_of_its_dimension():
    """Encoder space R^8, the data in e0…e3, a projector that keeps e0, e1 (J = [I₂ 0]).

    Closed forms: ρ(random) = 1; ρ(random in the span) = (2/4) / (2/8) = 2 in expectation;
    augmentation moves along e2, e3: ρ = 0, angle 90°; style tangents along e0, e1 and e2
    (dimension 3, unlike k = 2): ρ = (2/3) / (2/8) = 8/3, against span baselines of dimension
    3, whose ρ is also 2 in expectation.
    """
    rng = np.random.default_rng(1)
    n, d_h = 3000, 8
    jacobian = np.eye(2, d_h)
    moves = np.zeros((n, 3, d_h))
    moves[:, :, 2:4] = rng.standard_normal((n, 3, 2))
    test_encoder = np.zeros((n, d_h))
    test_encoder[:, :4] = rng.standard_normal((n, 4))
    embeddings = {
        "test_encoder": test_encoder,
        "geometry_jacobians": repeated(jacobian, n),
        "geometry_augmentation_moves": moves,
        "geometry_latent_tangents": repeated(unit_vectors(d_h, [0, 1, 2]) * 5.0, n),
        "geometry_latent_names": np.array(["pos_x", "pos_y", "scale"]),
    }
    options = {"k": 2, "n_neighbors": 10, "seed": 0, "span_variance": 0.99}
    rows, _ = run_geometry(embeddings, options)
    value = {(row["family"], row["metric"]): row["value"] for row in rows}
    assert value["data_span", "dimension"] == 4
    assert value["random", "sensitivity"] == pytest.approx(1.0, abs=0.05)
    assert value["random_span", "sensitivity"] == pytest.approx(2.0, abs=0.05)
    assert value["augmentation", "sensitivity"] == pytest.approx(0.0, abs=1e-12)
    assert value["augmentation", "angle"] == pytest.approx(90.0)
    assert value["augmentation", "sensitivity_minus_random"] == pytest.approx(-1.0, abs=0.05)
    assert value["augmentation", "sensitivity_minus_random_span"] == pytest.approx(-2.0, abs=0.05)
    assert value["style", "dimension"] == 3
    assert value["style", "sensitivity"] == pytest.approx(8 / 3)
    assert value["style", "sensitivity_minus_random_span"] == pytest.approx(2 / 3, abs=0.05)
    assert value["style", "angle"] == pytest.approx(0.0, abs=1e-6)  # e0, e1 ⊂ the style span
    # each style tangent alone, against dimension-1 baselines (ρ(random in span) = 2 still):
    # the first two columns (e0, e1) are kept, ρ = (1/1) / (2/8) = 4; the third (e2) is not
    for name, expected in (("pos_x", 4.0), ("pos_y", 4.0), ("scale", 0.0)):
        assert value[f"latent:{name}", "dimension"] == 1
        assert value[f"latent:{name}", "sensitivity"] == pytest.approx(expected)
        minus_span = value[f"latent:{name}", "sensitivity_minus_random_span"]
        assert minus_span == pytest.approx(expected - 2.0, abs=0.05)
    # per unit of each latent the encoder moves by 5 (‖5 e_i‖² = 25); the output keeps e0, e1
    assert value["style", "encoder_gain"] == pytest.approx(25.0)
    assert value["style", "output_gain"] == pytest.approx(50 / 3)
    assert value["latent:pos_x", "output_gain"] == pytest.approx(25.0)
    assert value["latent:scale", "output_gain"] == pytest.approx(0.0)
    assert not any(metric == "step_sensitivity" for _, metric in value)  # no steps extracted


def test_step_sensitivity_and_latent_blocks_of_content_and_style_vectors():
    """Latents c1, c2, s1 with their redraw steps: each family's step sensitivity is the mean
    squared output change along its moves over that along the random moves."""
    n, d_h = 4, 5
    latent_steps = np.zeros((n, 3, 2))
    latent_steps[..., 0] = [[1.0, 3.0, 0.0], [1.0, 1.0, 0.2], [3.0, 3.0, 0.0], [3.0, 1.0, 0.2]]
    latent_steps[..., 1] = 2.0
    data_steps = np.stack([np.full((n, 6), 8.0), np.full((n, 6), 4.0)], axis=-1)
    rng = np.random.default_rng(0)
    embeddings = {
        "test_encoder": rng.standard_normal((50, d_h)),
        "geometry_jacobians": repeated(np.eye(2, d_h), n),
        "geometry_latent_tangents": repeated(unit_vectors(d_h, [0, 1, 2]), n),
        "geometry_latent_names": np.array(["c1", "c2", "s1"]),
        "geometry_latent_steps": latent_steps,
        "geometry_data_steps": data_steps,
    }
    options = {"k": 2, "n_neighbors": 10, "seed": 0, "span_variance": 0.99}
    rows, _ = run_geometry(embeddings, options)
    value = {(row["family"], row["metric"]): row["value"] for row in rows}
    assert value["content", "dimension"] == 2 and value["style", "dimension"] == 1
    assert value["content", "step_sensitivity"] == pytest.approx(2.0 / 2.0)
    assert value["latent:c1", "step_sensitivity"] == pytest.approx(2.0 / 2.0)
    assert value["latent:s1", "step_sensitivity"] == pytest.approx(0.1 / 2.0)
    assert value["style", "step_sensitivity"] == pytest.approx(0.05)
    assert value["data", "step_sensitivity"] == pytest.approx(2.0)
    assert value["content", "output_gain"] == pytest.approx(1.0)
    assert value["style", "output_gain"] == pytest.approx(0.0)
