"""Projector Jacobians, tangent estimates, sensitivity and principal angles on closed-form cases."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from sslgeom.data.shapes import LATENT_NAMES, render, sample_latents
from sslgeom.geometry import (
    augmentation_tangent,
    class_change_directions,
    data_tangent,
    jacobian_spectrum_stats,
    latent_tangents,
    nearest_neighbours,
    orthonormal_basis,
    principal_angles,
    projector_jacobians,
    random_subspace,
    sensitivity,
    top_right_singular_vectors,
)
from sslgeom.models import Projector

torch.set_num_threads(1)

D_H, D_Z = 6, 4


def orthonormal_columns(d: int, k: int, seed: int) -> torch.Tensor:
    return random_subspace(1, d, k, seed)[0]


def unit_vectors(d: int, indices: list[int]) -> torch.Tensor:
    return torch.eye(d, dtype=torch.float64)[:, indices]


# --- projector Jacobian -------------------------------------------------------------------


def test_jacobian_of_a_linear_map_is_its_weight():
    torch.manual_seed(0)
    linear = nn.Linear(D_H, D_Z, bias=False)
    h = torch.randn(5, D_H)
    jacobians = projector_jacobians(linear, h, chunk_size=2)
    assert jacobians.shape == (5, D_Z, D_H)
    weight = linear.weight.detach().expand(5, -1, -1)
    torch.testing.assert_close(jacobians, weight, atol=1e-6, rtol=0)


def test_jacobian_of_a_depth_one_projector_is_its_weight():
    torch.manual_seed(0)
    projector = Projector(D_H, depth=1, hidden_dim=8, out_dim=D_Z)
    jacobians = projector_jacobians(projector, torch.randn(3, D_H))
    weight = projector.output.weight.detach().expand(3, -1, -1)
    torch.testing.assert_close(jacobians, weight, atol=1e-6, rtol=0)


def test_two_layer_jacobian_matches_autograd_in_eval_mode_and_keeps_training_mode():
    torch.manual_seed(0)
    projector = Projector(D_H, depth=2, hidden_dim=8, out_dim=D_Z)
    batchnorm = projector.hidden[0][1]
    batchnorm.running_mean.normal_()
    batchnorm.running_var.uniform_(0.5, 2.0)
    h = torch.randn(4, D_H)
    jacobians = projector_jacobians(projector, h)
    assert projector.training and batchnorm.training
    projector.eval()
    for row, jacobian in zip(h, jacobians, strict=True):
        expected = torch.autograd.functional.jacobian(lambda x: projector(x[None])[0], row)
        torch.testing.assert_close(jacobian, expected)


def test_spectrum_stats_of_equal_singular_values():
    rank = 3
    weight = 2.0 * orthonormal_columns(D_H, rank, seed=0).mT  # rank 3, singular values all 2
    stats = jacobian_spectrum_stats(weight.expand(4, -1, -1))
    np.testing.assert_allclose(stats["mean_singular_values"], [2.0, 2.0, 2.0], atol=1e-12)
    assert stats["stable_rank"] == pytest.approx(rank)
    assert stats["effective_rank"] == pytest.approx(rank, rel=1e-5)


def test_stable_rank_of_distinct_singular_values_and_zero_jacobian():
    jacobian = torch.diag(torch.tensor([2.0, 1.0, 0.0]))[None]
    assert jacobian_spectrum_stats(jacobian)["stable_rank"] == pytest.approx(5 / 4)
    with pytest.raises(ValueError, match="zero Jacobian"):
        jacobian_spectrum_stats(torch.zeros(1, 2, 3))


def test_top_right_singular_vectors_span_the_kept_directions():
    jacobian = torch.zeros(1, 3, 5, dtype=torch.float64)
    jacobian[0, [0, 1, 2], [3, 0, 4]] = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)
    top = top_right_singular_vectors(jacobian, k=2)
    assert top.shape == (1, 5, 2)
    angles = principal_angles(top, unit_vectors(5, [3, 0])[None])
    torch.testing.assert_close(angles, torch.zeros(1, 2, dtype=torch.float64), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="exceeds"):
        top_right_singular_vectors(jacobian, k=4)


# --- sensitivity --------------------------------------------------------------------------


def test_sensitivity_of_row_space_and_null_space():
    rank = 2
    full = orthonormal_columns(D_H, D_H, seed=1)
    row_space, null_space = full[:, :rank], full[:, rank:]
    jacobians = row_space.mT[None]  # orthonormal rows
    assert sensitivity(jacobians, row_space[None]).item() == pytest.approx(D_H / rank)
    assert sensitivity(jacobians, null_space[None]).item() == pytest.approx(0.0, abs=1e-12)


def test_sensitivity_of_random_subspaces_averages_one():
    torch.manual_seed(0)
    jacobian = torch.randn(D_Z, 16, dtype=torch.float64)
    bases = random_subspace(4000, 16, 3, seed=2)
    rho = sensitivity(jacobian.expand(4000, -1, -1), bases)
    assert rho.shape == (4000,)
    assert rho.mean().item() == pytest.approx(1.0, abs=0.03)


def test_random_subspace_is_orthonormal_and_seeded():
    bases = random_subspace(5, 7, 3, seed=0)
    assert bases.shape == (5, 7, 3) and bases.dtype == torch.float64
    identity = torch.eye(3, dtype=torch.float64).expand(5, -1, -1)
    torch.testing.assert_close(bases.mT @ bases, identity)
    torch.testing.assert_close(random_subspace(5, 7, 3, seed=0), bases, atol=0, rtol=0)
    assert not torch.allclose(random_subspace(5, 7, 3, seed=1), bases)


# --- principal angles ---------------------------------------------------------------------


def test_principal_angles_of_identical_and_orthogonal_subspaces():
    basis = orthonormal_columns(5, 2, seed=3)[None]
    zeros = torch.zeros(1, 2, dtype=torch.float64)
    torch.testing.assert_close(principal_angles(basis, basis), zeros, atol=1e-6, rtol=0)
    orthogonal = principal_angles(unit_vectors(5, [0, 1])[None], unit_vectors(5, [2, 3])[None])
    torch.testing.assert_close(orthogonal, torch.full((1, 2), math.pi / 2, dtype=torch.float64))


def test_principal_angles_of_a_rotation_in_a_plane():
    theta = 0.3
    a = unit_vectors(4, [0, 1])
    b = a.clone()
    b[:, 0] = math.cos(theta) * a[:, 0] + math.sin(theta) * unit_vectors(4, [2])[:, 0]
    angles = principal_angles(a[None], b[None])
    torch.testing.assert_close(angles, torch.tensor([[0.0, theta]], dtype=torch.float64))


# --- tangent estimates --------------------------------------------------------------------


def test_nearest_neighbours_match_a_brute_force_sort_across_chunks():
    points = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    distances = torch.cdist(points, points)
    distances.fill_diagonal_(float("inf"))
    expected = distances.argsort(dim=1)[:, :4]
    assert torch.equal(nearest_neighbours(points, 4, chunk_size=16), expected)


def test_data_tangent_recovers_a_plane_in_r5():
    generator = torch.Generator().manual_seed(0)
    plane = orthonormal_columns(5, 2, seed=4)
    coordinates = torch.rand(200, 2, generator=generator, dtype=torch.float64)
    noise = 1e-5 * torch.randn(200, 5, generator=generator, dtype=torch.float64)
    points = coordinates @ plane.mT + noise
    tangents = data_tangent(points, k=2, n_neighbors=10)
    assert tangents.shape == (200, 5, 2)
    angles = principal_angles(tangents, plane.expand(200, -1, -1))
    assert angles.max().item() < 1e-2


def shift_along(direction: torch.Tensor):
    """A toy augmentation: every image moves by a random multiple of one fixed image."""
    return lambda images: images + torch.randn(len(images), 1, 1, 1) * direction


def test_augmentation_tangent_recovers_the_shift_direction():
    torch.manual_seed(0)
    images, direction = torch.rand(3, 1, 4, 4), torch.randn(1, 4, 4)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, D_H, bias=False))
    tangents = augmentation_tangent(encoder, images, shift_along(direction), 5, k=1, seed=0)
    assert tangents.shape == (3, D_H, 1)
    expected = encoder(direction[None]).detach().mT
    expected = (expected / expected.norm()).expand(3, -1, -1)
    angles = principal_angles(tangents, expected)
    torch.testing.assert_close(angles, torch.zeros(3, 1, dtype=torch.float64), atol=1e-3, rtol=0)


def test_augmentation_tangent_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    images, direction = torch.rand(2, 1, 3, 3), torch.randn(1, 3, 3)
    encoder = nn.Flatten()
    augment = shift_along(direction)
    torch.manual_seed(1)
    first = augmentation_tangent(encoder, images, augment, 4, k=2, seed=7)
    after_first = torch.rand(1)
    torch.manual_seed(1)
    second = augmentation_tangent(encoder, images, augment, 4, k=2, seed=7)
    assert torch.equal(first, second) and torch.equal(torch.rand(1), after_first)


WIDTH, BUMP_SIGMA = 24, 2.0


def bump_render(latents: np.ndarray) -> np.ndarray:
    """1 × WIDTH × 1 images of a Gaussian bump: latent 0 is its centre in pixels, 1 its height."""
    pixels = np.arange(WIDTH)
    centre, height = latents[:, 0, None], latents[:, 1, None]
    profile = height * np.exp(-((pixels - centre) ** 2) / (2 * BUMP_SIGMA**2))
    return profile[:, None, :, None].astype(np.float32)


def test_latent_tangents_of_a_gaussian_bump_are_its_analytic_derivatives():
    latents = np.array([[8.0, 1.0], [12.3, 0.5], [15.7, 2.0]])
    tangents = latent_tangents(nn.Flatten(), latents, bump_render, [1, 0], 1e-2, batch_size=2)
    assert tangents.shape == (3, WIDTH, 2)
    offsets = np.arange(WIDTH) - latents[:, :1]
    bump = np.exp(-(offsets**2) / (2 * BUMP_SIGMA**2))
    d_height, d_centre = bump, latents[:, 1:] * offsets / BUMP_SIGMA**2 * bump
    np.testing.assert_allclose(tangents[..., 0].numpy(), d_height, atol=2e-3)
    np.testing.assert_allclose(tangents[..., 1].numpy(), d_centre, atol=2e-3)


def test_class_change_directions_move_to_every_other_class():
    latents = np.array([[8.0, 0.0], [12.0, 3.0]])  # bump centre, class (the bump's height)
    moves = class_change_directions(
        nn.Flatten(), latents, bump_render, class_index=1, n_classes=4, batch_size=2
    )
    assert moves.shape == (2, WIDTH, 3)
    for sample, (centre, own) in enumerate(latents):
        original = bump_render(np.array([[centre, own]]))[0, 0, :, 0]
        for column, shift in enumerate((1, 2, 3)):
            moved = bump_render(np.array([[centre, (own + shift) % 4]]))[0, 0, :, 0]
            np.testing.assert_allclose(
                moves[sample, :, column].numpy(), moved - original, atol=1e-6
            )


def flat_nchw(images_nhwc: np.ndarray) -> np.ndarray:
    return images_nhwc.transpose(0, 3, 1, 2).reshape(len(images_nhwc), -1)


@pytest.fixture
def centred_shapes() -> np.ndarray:
    """Latents of shapes kept away from the border, so a one-pixel shift stays in view."""
    latents = sample_latents(6, np.random.default_rng(0))
    latents[:, 1:3] *= 0.5
    return latents


def test_pos_x_tangent_with_a_one_pixel_step_is_the_horizontal_image_gradient(centred_shapes):
    pixel, pos_x = 2 / 32, LATENT_NAMES.index("pos_x")
    tangents = latent_tangents(nn.Flatten(), centred_shapes, render, [pos_x], pixel, 8)
    # Moving the object right by one pixel shifts the image: dI/dpos_x = −(dI/dcolumn) / pixel.
    gradient = np.gradient(render(centred_shapes).astype(np.float64), axis=2)
    np.testing.assert_allclose(tangents[..., 0].numpy(), flat_nchw(-gradient / pixel), atol=1e-4)


def test_sub_pixel_position_tangents_follow_their_own_image_axis(centred_shapes):
    pos_x, pos_y = LATENT_NAMES.index("pos_x"), LATENT_NAMES.index("pos_y")
    tangents = latent_tangents(nn.Flatten(), centred_shapes, render, [pos_x, pos_y], 1e-2, 8)
    images = render(centred_shapes).astype(np.float64)
    along_x = flat_nchw(-np.gradient(images, axis=2))
    along_y = flat_nchw(-np.gradient(images, axis=1))
    for tangent, gradient_x, gradient_y in zip(tangents.numpy(), along_x, along_y, strict=True):
        assert np.corrcoef(tangent[:, 0], gradient_x)[0, 1] > 0.75
        assert np.corrcoef(tangent[:, 1], gradient_y)[0, 1] > 0.75
        assert abs(np.corrcoef(tangent[:, 0], gradient_y)[0, 1]) < 0.2


def test_shape_latent_has_a_zero_tangent_because_render_rounds_it(centred_shapes):
    tangents = latent_tangents(nn.Flatten(), centred_shapes, render, [0], 1e-2, 8)
    assert torch.count_nonzero(tangents) == 0


def test_orthonormal_basis_spans_the_directions():
    directions = torch.tensor([[[1.0, 1.0], [0.0, 2.0], [0.0, 0.0]]])
    basis = orthonormal_basis(directions)
    torch.testing.assert_close(basis.mT @ basis, torch.eye(2, dtype=torch.float64)[None])
    angles = principal_angles(basis, unit_vectors(3, [0, 1])[None])
    torch.testing.assert_close(angles, torch.zeros(1, 2, dtype=torch.float64), atol=1e-6, rtol=0)
