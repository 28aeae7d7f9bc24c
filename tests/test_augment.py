"""The strength-scaled augmentation policy and its reproducible views."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sslgeom.training.augment import (
    StrengthAugmentation,
    example_views,
    resized_crops,
    to_float_images,
    views,
)

torch.set_num_threads(1)

SIZE = (16, 16)


def float_images(n: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, *SIZE, generator=torch.Generator().manual_seed(seed))


def uint8_images(n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *SIZE, 3), dtype=np.uint8)


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_output_shape_and_dtype(strength):
    images = float_images()
    out = StrengthAugmentation(strength, SIZE)(images)
    assert out.shape == images.shape
    assert out.dtype == torch.float32


POLICY_SIZE = 2048  # large, so that the crop boxes' pixel rounding stays below 0.1 %
POLICY_DRAWS = 20_000


def policy_parameters(strength: float) -> dict[str, dict[str, torch.Tensor]]:
    """The parameters each kornia module of the policy samples for POLICY_DRAWS images, by
    module class name; seeded, and sampled without touching any image."""
    augment = StrengthAugmentation(strength, (POLICY_SIZE, POLICY_SIZE))
    shape = (POLICY_DRAWS, 3, POLICY_SIZE, POLICY_SIZE)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return {type(module).__name__: module.forward_parameters(shape) for module in augment.ops}


def crop_area_and_ratio(crop: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Area fraction and width / height of each crop box (corners, inclusive pixel indices)."""
    corners = crop["src"]
    width = corners[:, 1, 0] - corners[:, 0, 0] + 1
    height = corners[:, 2, 1] - corners[:, 1, 1] + 1
    return width * height / POLICY_SIZE**2, width / height


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_crop_area_and_aspect_ratio_span_the_readme_bounds(strength):
    crop = policy_parameters(strength)["BatchedResizedCrop"]
    area, ratio = crop_area_and_ratio(crop)
    assert crop["batch_prob"].all()  # every view is cropped
    assert area.min().item() == pytest.approx(1 - 0.92 * strength, abs=2e-3)
    assert 0.97 < area.max().item() <= 1.0
    assert ratio.min().item() == pytest.approx((3 / 4) ** strength, rel=3e-3)
    assert ratio.max().item() == pytest.approx((4 / 3) ** strength, rel=3e-3)


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_colour_jitter_factors_span_the_readme_bounds(strength):
    jitter = policy_parameters(strength)["ColorJitter"]
    for name in ("brightness", "contrast", "saturation"):
        factors = jitter[f"{name}_factor"]
        assert factors.min().item() == pytest.approx(1 - 0.8 * strength, abs=2e-3), name
        assert factors.max().item() == pytest.approx(1 + 0.8 * strength, abs=2e-3), name
    assert jitter["hue_factor"].min().item() == pytest.approx(-0.2 * strength, abs=1e-3)
    assert jitter["hue_factor"].max().item() == pytest.approx(0.2 * strength, abs=1e-3)


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_jitter_grayscale_and_flip_are_applied_with_the_readme_probabilities(strength):
    parameters = policy_parameters(strength)
    expected = {
        "ColorJitter": 0.8 * strength,
        "RandomGrayscale": 0.2 * strength,
        "RandomHorizontalFlip": 0.5 * strength,
    }
    for module, probability in expected.items():
        rate = parameters[module]["batch_prob"].float().mean().item()
        four_sigma = 4 * math.sqrt(probability * (1 - probability) / POLICY_DRAWS)
        assert abs(rate - probability) < four_sigma, module


def test_zero_strength_is_the_identity():
    images = float_images()
    original = images.clone()
    augment = StrengthAugmentation(0.0, SIZE)
    assert torch.equal(augment(images), original)
    stacked = views(augment, images, n_views=3, seed=0)
    assert all(torch.equal(stacked[:, v], original) for v in range(3))
    assert torch.equal(images, original)


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_outside_unit_interval_raises(strength):
    with pytest.raises(ValueError, match="strength"):
        StrengthAugmentation(strength, SIZE)


def test_full_strength_changes_the_images():
    images = float_images()
    stacked = views(StrengthAugmentation(1.0, SIZE), images, n_views=2, seed=0)
    assert not torch.allclose(stacked[:, 0], images)
    assert not torch.allclose(stacked[:, 0], stacked[:, 1])


def test_views_are_reproducible_per_seed():
    augment, images = StrengthAugmentation(1.0, SIZE), float_images()
    first = views(augment, images, n_views=3, seed=7)
    assert first.shape == (8, 3, 3, *SIZE)
    assert torch.equal(first, views(augment, images, n_views=3, seed=7))
    assert not torch.equal(first, views(augment, images, n_views=3, seed=8))


def test_views_leave_the_global_rng_untouched():
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    views(StrengthAugmentation(1.0, SIZE), float_images(), n_views=2, seed=0)
    assert torch.equal(torch.rand(5), expected)


def test_example_views_returns_uint8_nvhwc():
    out = example_views(uint8_images(), strength=0.5, n_views=3, seed=0)
    assert out.dtype == np.uint8
    assert out.shape == (4, 3, *SIZE, 3)


def test_example_views_at_zero_strength_round_trip_exactly():
    images = uint8_images()
    out = example_views(images, strength=0.0, n_views=2, seed=0)
    np.testing.assert_array_equal(out, np.stack([images, images], axis=1))


def test_to_float_images_maps_uint8_nhwc_to_float_nchw():
    images = uint8_images()
    out = to_float_images(torch.from_numpy(images))
    assert out.dtype == torch.float32
    assert out.shape == (4, 3, *SIZE)
    expected = images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=1e-7)


def crop_one_at_a_time(images: torch.Tensor, boxes: torch.Tensor, size) -> torch.Tensor:
    """The reference: slice each image's box and resize it on its own."""
    crops = []
    for image, box in zip(images, boxes.long(), strict=True):
        (x0, y0), (x1, y1) = box[0].tolist(), box[2].tolist()
        crop = image[None, :, y0 : y1 + 1, x0 : x1 + 1]
        crops.append(F.interpolate(crop, size=size, mode="bilinear", align_corners=True))
    return torch.cat(crops)


def random_boxes(count: int, height: int, width: int, generator) -> torch.Tensor:
    """Inclusive integer boxes, clockwise corners (x, y) from the top left; one pixel wide to
    the whole image."""
    x = torch.sort(torch.randint(0, width, (count, 2), generator=generator), dim=1).values
    y = torch.sort(torch.randint(0, height, (count, 2), generator=generator), dim=1).values
    x[0], y[0] = torch.tensor([0, width - 1]), torch.tensor([0, height - 1])  # the whole image
    x[1], y[1] = torch.tensor([3, 3]), torch.tensor([5, 9])  # one column
    corners = [(x[:, 0], y[:, 0]), (x[:, 1], y[:, 0]), (x[:, 1], y[:, 1]), (x[:, 0], y[:, 1])]
    return torch.stack([torch.stack(corner, dim=-1) for corner in corners], dim=1)


@pytest.mark.parametrize(
    ("channels", "height", "width", "size"),
    [(3, 32, 32, (32, 32)), (1, 28, 28, (28, 28)), (3, 24, 40, (16, 48)), (3, 96, 96, (96, 96))],
)
def test_batched_crops_equal_cropping_and_resizing_each_image(channels, height, width, size):
    generator = torch.Generator().manual_seed(height + width)
    images = torch.rand(40, channels, height, width, generator=generator)
    boxes = random_boxes(40, height, width, generator)
    expected = crop_one_at_a_time(images, boxes, size)
    torch.testing.assert_close(resized_crops(images, boxes, size), expected, rtol=0, atol=1e-6)


def test_the_crop_is_kornias_on_the_cpu():
    import kornia.augmentation as K

    images = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    ours = StrengthAugmentation(1.0, (32, 32)).ops[0](images)
    torch.manual_seed(0)
    kornias = K.RandomResizedCrop((32, 32), scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))(images)
    assert torch.equal(ours, kornias)


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_grayscale_images_are_augmented_as_their_gray_rgb_copies(strength):
    """A gray image as RGB stays gray under the whole policy, so a 1-channel image's views are
    any channel of its RGB copy's views drawn with the same seed."""
    gray = float_images()[:, :1]
    augment = StrengthAugmentation(strength, SIZE)
    torch.manual_seed(3)
    out = augment(gray)
    torch.manual_seed(3)
    as_rgb = augment.ops(gray.expand(-1, 3, -1, -1)).clamp(0.0, 1.0)
    assert out.shape == gray.shape
    for channel in range(3):
        torch.testing.assert_close(out[:, 0], as_rgb[:, channel], atol=1e-5, rtol=0)


def test_example_views_of_grayscale_images_are_shown_as_rgb():
    images = uint8_images()[..., :1]
    out = example_views(images, strength=0.0, n_views=2, seed=0)
    np.testing.assert_array_equal(out, np.repeat(np.stack([images, images], axis=1), 3, axis=-1))
