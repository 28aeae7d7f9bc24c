"""What the embed job extracts for the geometry: projector Jacobians and encoder-space moves."""

import dataclasses
import functools

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO
from torch import nn

from sslgeom.analyses.geometry import (
    EXTRACTION_OPTIONS,
    MEASUREMENT_OPTIONS,
    TANGENT_ARRAYS,
    geometry_run,
)
from sslgeom.data.shapes import (
    LATENT_NAMES,
    SHAPE_CLASSES,
    STYLE_LATENTS,
    make_shapes,
    render,
    sample_latents,
)
from sslgeom.data.vectors import MIXING_SLOPE, make_vectors, mix, mixing_weights
from sslgeom.embedding.embeddings import embed_split
from sslgeom.embedding.tangents import (
    LATENT_REDRAWS,
    augmentation_moves,
    class_change_directions,
    exact_latent_tangents,
    extract_tangents,
    latent_tangents,
    projector_jacobians,
    step_changes,
)
from sslgeom.io.artifacts import save_npz_atomically
from sslgeom.metrics.subspaces import augmentation_tangent, principal_angles
from sslgeom.models import Projector, build_model

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

torch.set_num_threads(1)

D_H, D_Z = 6, 4


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


# --- augmentation moves -------------------------------------------------------------------


def shift_along(direction: torch.Tensor):
    """A toy augmentation: every image moves by a random multiple of one fixed image."""
    return lambda images: images + torch.randn(len(images), 1, 1, 1) * direction


def test_augmentation_moves_lie_along_the_shift_direction():
    torch.manual_seed(0)
    images, direction = torch.rand(3, 1, 4, 4), torch.randn(1, 4, 4)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, D_H, bias=False))
    moves = augmentation_moves(encoder, images, shift_along(direction), 5, seed=0)
    assert moves.shape == (3, 5, D_H) and moves.dtype == torch.float64
    tangents = augmentation_tangent(moves.numpy(), k=1)
    expected = encoder(direction[None]).detach().double().numpy().T
    expected = np.broadcast_to(expected / np.linalg.norm(expected), (3, D_H, 1))
    np.testing.assert_allclose(principal_angles(tangents, expected), np.zeros((3, 1)), atol=1e-3)


def test_augmentation_moves_are_seeded_and_leave_the_global_rng_alone():
    torch.manual_seed(0)
    images, direction = torch.rand(2, 1, 3, 3), torch.randn(1, 3, 3)
    encoder = nn.Flatten()
    augment = shift_along(direction)
    torch.manual_seed(1)
    first = augmentation_moves(encoder, images, augment, 4, seed=7)
    after_first = torch.rand(1)
    torch.manual_seed(1)
    second = augmentation_moves(encoder, images, augment, 4, seed=7)
    assert torch.equal(first, second) and torch.equal(torch.rand(1), after_first)


# --- latent tangents and class changes ----------------------------------------------------

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


# --- the extracted arrays -----------------------------------------------------------------

OPTIONS = {
    "n_images": 5,
    "tangent_strength": 0.2,
    "n_augmentations": 3,
    "latent_epsilon": 0.02,
    "n_neighbors": 3,
    "span_variance": 0.99,
    "seed": 0,
    "batch_size": 4,
}


def tiny_model_and_shapes():
    torch.manual_seed(0)
    model = build_model(
        (16, 16, 3),
        projector_depth=2,
        projector_hidden_dim=8,
        projector_out_dim=3,
        encoder_width=4,
        encoder_blocks=[1, 1],
    )
    return model, make_shapes(8, 7, seed=0, size=16)


@pytest.mark.parametrize("rendered", [True, False])
def test_extract_tangents_shapes_and_families(rendered):
    model, dataset = tiny_model_and_shapes()
    if not rendered:  # the same images without latents: no style or content moves
        dataset = dataclasses.replace(
            dataset, name="other", train_latents=None, test_latents=None, latent_names=()
        )
    test_encoder = embed_split(model, dataset.test_images, 4)["encoder"]
    arrays = extract_tangents(model, dataset, test_encoder, OPTIONS)
    d_h = test_encoder.shape[1]
    shapes = {
        TANGENT_ARRAYS["jacobians"]: (5, 3, d_h),
        TANGENT_ARRAYS["augmentation"]: (5, 3, d_h),
        TANGENT_ARRAYS["data_steps"]: (5, 3, 2),
        TANGENT_ARRAYS["augmentation_steps"]: (5, 3, 2),
    }
    if rendered:
        shapes[TANGENT_ARRAYS["latent"]] = (5, d_h, len(STYLE_LATENTS))
        shapes[TANGENT_ARRAYS["latent_names"]] = (len(STYLE_LATENTS),)
        shapes[TANGENT_ARRAYS["latent_steps"]] = (5, len(STYLE_LATENTS), 2)
        shapes[TANGENT_ARRAYS["content"]] = (5, d_h, len(SHAPE_CLASSES) - 1)
    assert {key: value.shape for key, value in arrays.items()} == shapes
    reference = projector_jacobians(model.projector, torch.from_numpy(test_encoder[:5]))
    np.testing.assert_array_equal(arrays[TANGENT_ARRAYS["jacobians"]], reference.numpy())


def test_every_geometry_option_is_used_by_the_extraction_or_the_measurements():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    options = set(schema["properties"]["geometry"]["properties"])
    assert set(EXTRACTION_OPTIONS) | set(MEASUREMENT_OPTIONS) == options


def test_geometry_run_measures_the_extracted_arrays_and_names_a_file_without_them(tmp_path):
    model, dataset = tiny_model_and_shapes()
    test_encoder = embed_split(model, dataset.test_images, 4)["encoder"]
    arrays = {"test_encoder": test_encoder, "train_encoder": np.zeros((8, 8), np.float32)}
    arrays |= extract_tangents(model, dataset, test_encoder, OPTIONS)
    save_npz_atomically(arrays, tmp_path / "embeddings.npz")
    options = {"k": 2, "n_neighbors": 4, "seed": 0, "span_variance": 0.99}
    outputs = [tmp_path / "geometry.csv", tmp_path / "spectrum.csv"]
    geometry_run(tmp_path / "embeddings.npz", *outputs, options)
    rows = outputs[0].read_text().splitlines()
    families = {row.split(",")[0] for row in rows[1:]}
    baselines = {"random", "random_span", "data_span"}
    single_latents = {f"latent:{name}" for name in STYLE_LATENTS}
    assert families == {"jacobian", "augmentation", "data", "style", "content"} | baselines | (
        single_latents
    )
    assert len(outputs[1].read_text().splitlines()) == 1 + 3  # min(d_z, d_h) singular values
    save_npz_atomically({"test_encoder": test_encoder}, tmp_path / "plain.npz")
    with pytest.raises(ValueError, match="plain.npz holds no geometry arrays.*forcerun embed"):
        geometry_run(tmp_path / "plain.npz", *outputs, options)


# --- exact tangents and finite steps ------------------------------------------------------


def test_exact_latent_tangents_are_the_chain_rule_through_the_mixing():
    """h = A mix(z) + b with mix(z) = W₂ σ(W₁ z): ∂h/∂z = A W₂ diag(σ′(W₁ z)) W₁, σ′ being 1
    or the leaky slope."""
    torch.manual_seed(0)
    first, second = mixing_weights(4, 2, seed=0, n_candidates=10)
    encoder = nn.Linear(4, 3)
    latents = np.random.default_rng(0).standard_normal((6, 4))
    mixing = [torch.from_numpy(weight).float() for weight in (first, second)]
    tangents = exact_latent_tangents(encoder, functools.partial(mix, weights=mixing), latents)
    slopes = np.where(latents @ first.T >= 0, 1.0, MIXING_SLOPE)
    weight = encoder.weight.detach().double().numpy()
    expected = weight @ second @ (slopes[:, :, None] * first)
    assert tangents.shape == (6, 3, 4)
    np.testing.assert_allclose(tangents.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_step_changes_of_a_linear_projector_are_its_closed_forms():
    """g(h) = A h and a one-dimensional span e₁: the move Δ changes the output by ‖A Δ‖², the
    random move of the same length (±‖Δ‖ e₁) by ‖Δ‖² ‖A e₁‖²."""
    torch.manual_seed(0)
    projector = nn.Linear(4, 3, bias=False)
    start, moves = torch.randn(5, 4), torch.randn(5, 2, 4)
    span = np.eye(4)[:, [1]]
    changes = step_changes(projector, start, moves, span, seed=0)
    weight = projector.weight.detach().double()
    along_moves = ((moves.double() @ weight.T) ** 2).sum(-1)
    along_span = (moves.double() ** 2).sum(-1) * (weight[:, 1] ** 2).sum()
    assert changes.shape == (5, 2, 2) and changes.dtype == torch.float64
    torch.testing.assert_close(changes[..., 0], along_moves, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(changes[..., 1], along_span, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("space", "mean", "variance"), [("normal", 0, 1), ("box", 0.5, 1 / 12)])
def test_a_latent_redraw_takes_one_coordinate_from_its_marginal(space, mean, variance):
    latents = np.random.default_rng(0).standard_normal((20000, 3))
    redrawn = LATENT_REDRAWS[space](latents, 1, np.random.default_rng(1))
    np.testing.assert_array_equal(redrawn[:, [0, 2]], latents[:, [0, 2]])
    assert redrawn[:, 1].mean() == pytest.approx(mean, abs=0.02)
    assert redrawn[:, 1].var() == pytest.approx(variance, rel=0.03)
    assert "sphere" not in LATENT_REDRAWS  # its coordinates are not independent


@pytest.mark.parametrize("space", ["normal", "sphere"])
def test_extract_tangents_on_vectors_is_exact_and_redraws_each_latent(space):
    content = 2 if space == "normal" else None
    dataset = make_vectors(40, 30, 0, 4, space, mixing_candidates=10, content_latents=content)
    torch.manual_seed(0)
    model = build_model((4,), 2, 8, 3, backbone="mlp", mlp_dims=(6,))
    test_encoder = embed_split(model, dataset.test_images, 8)["encoder"]
    arrays = extract_tangents(model, dataset, test_encoder, OPTIONS)
    assert TANGENT_ARRAYS["augmentation"] not in arrays
    assert list(arrays[TANGENT_ARRAYS["latent_names"]]) == list(dataset.latent_names)
    assert arrays[TANGENT_ARRAYS["latent"]].shape == (5, 6, 4)
    if space == "sphere":
        assert TANGENT_ARRAYS["latent_steps"] not in arrays
        return
    # the redraw steps, recomputed one latent after another from the same generator
    weights = mixing_weights(4, 3, 0, 10)
    latents = dataset.test_latents[:5].astype(np.float64)
    rng = np.random.default_rng(OPTIONS["seed"])
    model.eval()
    with torch.no_grad():
        output = model.projector(model.encoder(torch.from_numpy(mix(latents, weights)).float()))
        for index in range(4):
            redrawn = latents.copy()
            redrawn[:, index] = rng.standard_normal(5)
            moved = torch.from_numpy(mix(redrawn, weights)).float()
            change = ((model.projector(model.encoder(moved)) - output) ** 2).sum(-1)
            np.testing.assert_allclose(
                arrays[TANGENT_ARRAYS["latent_steps"]][:, index, 0], change.numpy(), rtol=1e-4
            )
