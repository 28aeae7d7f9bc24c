"""Positive pairs: image augmentations, and latent views that rerun the generative process
(shapes with resampled style latents, vectors with a vMF or truncated-normal conditional)."""

import numpy as np
import pytest
import torch

from sslgeom.data.shapes import LATENT_NAMES, STYLE_LATENTS, STYLE_RANGES, make_shapes, render
from sslgeom.data.vectors import make_vectors, mixing_weights, unmix
from sslgeom.training.augment import StrengthAugmentation, to_float_images
from sslgeom.training.conditionals import resample_latents
from sslgeom.training.views import AugmentedViews, LatentViews, batches_pairs, view_sampler

CPU = torch.device("cpu")
NAMES = list(LATENT_NAMES)


def latent_settings(resampled=(), strength=0.0, kappa=1.0, conditional=None, scale=0.05) -> dict:
    return {
        "views": "latent",
        "strength": strength,
        "resampled_latents": list(resampled),
        "latent_conditional": conditional,
        "latent_concentration": kappa,
        "latent_scale": scale,
    }


def test_resampling_keeps_exactly_the_other_latents_and_draws_from_the_priors():
    dataset = make_shapes(2000, 10, seed=0)
    latents = torch.from_numpy(dataset.train_latents.astype(np.float64))
    resampled_names = ["pos_x", "object_hue"]
    indices = [NAMES.index(name) for name in resampled_names]
    torch.manual_seed(0)
    resampled = resample_latents(latents, indices, NAMES)
    for index, name in enumerate(NAMES):
        if name in resampled_names:
            low, high = STYLE_RANGES[name]
            values = resampled[:, index].numpy()
            assert values.min() >= low and values.max() <= high
            # uniform on [low, high]: mean (low + high)/2 with sd (high − low)/√12/√n
            se = (high - low) / np.sqrt(12 * len(values))
            assert abs(values.mean() - (low + high) / 2) < 4 * se
            assert not np.any(values == latents[:, index].numpy())
        else:
            assert torch.equal(resampled[:, index], latents[:, index]), name


def test_latent_pairs_render_the_latents_and_their_resampled_copy():
    dataset = make_shapes(16, 4, seed=0, size=16)
    sampler = view_sampler(
        latent_settings(["rotation"]), dataset, dataset.train_images, dataset.train_latents, CPU
    )
    indices = torch.tensor([3, 0, 7])
    torch.manual_seed(5)
    anchor, positive = sampler.pair(indices)
    # the same draws by hand: one uniform rotation per image, the other latents kept
    torch.manual_seed(5)
    expected_latents = dataset.train_latents[[3, 0, 7]].astype(np.float32).copy()
    rotation = NAMES.index("rotation")
    low, high = STYLE_RANGES["rotation"]
    expected_latents[:, rotation] = (low + (high - low) * torch.rand(3)).numpy()
    as_nchw = lambda images: torch.from_numpy(images).permute(0, 3, 1, 2)  # noqa: E731
    assert torch.allclose(anchor, as_nchw(render(dataset.train_latents[[3, 0, 7]], 16)))
    assert torch.allclose(positive, as_nchw(render(expected_latents, 16)), atol=1e-6)
    # the anchor is the stored image up to its uint8 rounding
    stored = to_float_images(torch.from_numpy(dataset.train_images[[3, 0, 7]]))
    assert torch.max(torch.abs(anchor - stored)) <= 0.5 / 255 + 1e-6


def test_every_style_latent_can_be_resampled_and_the_class_is_shared():
    dataset = make_shapes(64, 4, seed=1, size=16)
    sampler = view_sampler(
        latent_settings(STYLE_LATENTS), dataset, dataset.train_images, dataset.train_latents, CPU
    )
    assert isinstance(sampler, LatentViews)
    latents = sampler.latents[:8]
    torch.manual_seed(0)
    moved = sampler.conditional(latents)
    assert torch.equal(moved[:, NAMES.index("shape")], latents[:, NAMES.index("shape")])
    for name in STYLE_LATENTS:
        assert not torch.any(moved[:, NAMES.index(name)] == latents[:, NAMES.index(name)])


def test_vector_pairs_are_mixed_latents_and_a_vmf_draw_around_them():
    dataset = make_vectors(500, 10, seed=0, latent_dim=5)
    sampler = view_sampler(
        latent_settings(kappa=20.0), dataset, dataset.train_images, dataset.train_latents, CPU
    )
    weights = mixing_weights(5, 3, 0)
    torch.manual_seed(0)
    anchor, positive = sampler.pair(torch.arange(500))
    np.testing.assert_allclose(unmix(anchor.numpy(), weights), dataset.train_latents, atol=1e-4)
    positives = unmix(positive.numpy(), weights)
    np.testing.assert_allclose(np.linalg.norm(positives, axis=1), 1.0, atol=1e-4)
    # E[μᵀx] of a vMF in d = 5 at κ = 20 is I_{5/2}(20) / I_{3/2}(20) ≈ 0.9026
    cosine = (positives * dataset.train_latents).sum(axis=1)
    assert abs(cosine.mean() - 0.9026) < 0.01


@pytest.mark.parametrize("conditional", ["normal", "laplace", None])  # None: the box's normal
def test_box_pairs_stay_in_the_box_at_the_conditionals_scale(conditional):
    dataset = make_vectors(3000, 10, seed=0, latent_dim=4, space="box")
    settings = latent_settings(conditional=conditional, scale=0.02)
    sampler = view_sampler(settings, dataset, dataset.train_images, dataset.train_latents, CPU)
    torch.manual_seed(0)
    _, positive = sampler.pair(torch.arange(3000))
    latents = unmix(positive.numpy(), mixing_weights(4, 3, 0))
    assert latents.min() >= -1e-4 and latents.max() <= 1 + 1e-4
    # at a scale far below the box, truncation is rare: E|z̃ − z| is b (Laplace) or σ√(2/π)
    deviation = np.abs(latents - dataset.train_latents).mean()
    expected = 0.02 if conditional == "laplace" else 0.02 * np.sqrt(2 / np.pi)
    assert deviation == pytest.approx(expected, rel=0.05)


def test_normal_latent_pairs_share_the_content_block_exactly():
    dataset = make_vectors(200, 10, seed=0, latent_dim=6, space="normal", content_latents=2)
    settings = latent_settings() | {"style_change_prob": 1.0}
    sampler = view_sampler(settings, dataset, dataset.train_images, dataset.train_latents, CPU)
    torch.manual_seed(0)
    anchor, positive = sampler.pair(torch.arange(200))
    weights = mixing_weights(6, 3, 0)
    anchor_latents, positive_latents = (unmix(v.numpy(), weights) for v in (anchor, positive))
    np.testing.assert_allclose(anchor_latents, dataset.train_latents, atol=1e-4)
    np.testing.assert_allclose(positive_latents[:, :2], anchor_latents[:, :2], atol=1e-4)
    assert np.abs(positive_latents[:, 2:] - anchor_latents[:, 2:]).min() > 0


@pytest.mark.parametrize(
    ("space", "conditional"),
    [("box", "vmf"), ("sphere", "normal"), ("sphere", "laplace"), ("box", "style")],
)
def test_a_conditional_outside_its_space_raises(space, conditional):
    content = 2 if space == "normal" else None
    dataset = make_vectors(30, 10, seed=0, latent_dim=4, space=space, content_latents=content)
    with pytest.raises(ValueError, match=f"the {conditional} latent conditional"):
        view_sampler(
            latent_settings(conditional=conditional),
            dataset,
            dataset.train_images,
            dataset.train_latents,
            CPU,
        )


def test_augmented_pairs_are_two_draws_of_the_augmentation_in_order():
    dataset = make_shapes(8, 4, seed=0, size=16)
    sampler = view_sampler(
        {"views": "augmentation", "strength": 0.8}, dataset, dataset.train_images, None, CPU
    )
    assert isinstance(sampler, AugmentedViews)
    indices = torch.tensor([5, 1])
    torch.manual_seed(3)
    first, second = sampler.pair(indices)
    augment = StrengthAugmentation(0.8, (16, 16))
    torch.manual_seed(3)
    batch = to_float_images(torch.from_numpy(dataset.train_images[[5, 1]]))
    assert torch.equal(first, augment(batch))
    assert torch.equal(second, augment(batch))
    assert not torch.equal(first, second)


def test_latent_views_need_a_generative_process():
    dataset = make_shapes(8, 4, seed=0, size=16)
    with pytest.raises(ValueError, match="latent views need a dataset with latents"):
        view_sampler(latent_settings(["scale"]), dataset, dataset.train_images, None, CPU)


def test_latent_pairs_on_the_cpu_augment_the_anchor_before_drawing_the_conditional():
    """The order of draws every CPU number was made with: the anchor's augmentation, the
    conditional, the positive's augmentation."""
    dataset = make_shapes(16, 4, seed=0, size=16)
    settings = latent_settings(["rotation", "pos_x"], strength=0.8)
    sampler = view_sampler(settings, dataset, dataset.train_images, dataset.train_latents, CPU)
    assert not sampler.batched_pairs
    indices = torch.tensor([3, 0, 7, 2])
    torch.manual_seed(5)
    anchor, positive = sampler.pair(indices)
    augment, latents = StrengthAugmentation(0.8, (16, 16)), sampler.latents[indices]
    torch.manual_seed(5)
    assert torch.equal(anchor, augment(sampler.generate(latents)))
    assert torch.equal(positive, augment(sampler.generate(sampler.conditional(latents))))


def batched_sampler(views: str, strength: float):
    """A sampler of small shapes on the CPU, made to take the CUDA path: both views of a batch
    in one call."""
    dataset = make_shapes(16, 4, seed=0, size=16)
    settings = latent_settings(["rotation"], strength=strength) | {"views": views}
    sampler = view_sampler(settings, dataset, dataset.train_images, dataset.train_latents, CPU)
    sampler.batched_pairs = True
    return sampler


@pytest.mark.parametrize("strength", [0.0, 0.8])
def test_batched_latent_pairs_render_both_views_then_augment_them_in_one_call(strength):
    sampler, indices = batched_sampler("latent", strength), torch.tensor([3, 0, 7, 2])
    torch.manual_seed(5)
    anchor, positive = sampler.pair(indices)
    latents = sampler.latents[indices]
    torch.manual_seed(5)
    renders = sampler.generate(latents), sampler.generate(sampler.conditional(latents))
    if strength == 0:
        assert torch.equal(anchor, renders[0]) and torch.equal(positive, renders[1])
        return
    expected = StrengthAugmentation(strength, (16, 16)).batched_pair(*renders)
    assert torch.equal(anchor, expected[0]) and torch.equal(positive, expected[1])


def test_batched_augmented_pairs_are_one_call_of_the_batched_policy():
    sampler, indices = batched_sampler("augmentation", 0.8), torch.tensor([5, 1, 2])
    torch.manual_seed(3)
    first, second = sampler.pair(indices)
    batch = to_float_images(sampler.inputs[indices])
    torch.manual_seed(3)
    expected = StrengthAugmentation(0.8, (16, 16)).batched_pair(batch, batch)
    assert torch.equal(first, expected[0]) and torch.equal(second, expected[1])
    assert not torch.equal(first, second)


def test_pairs_are_batched_on_cuda_only():
    assert batches_pairs(torch.device("cuda"))
    assert batches_pairs(torch.device("cuda:1"))
    assert not batches_pairs(CPU)
    assert not batches_pairs(torch.device("mps"))
