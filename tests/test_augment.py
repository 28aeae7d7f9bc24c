"""The strength-scaled augmentation policy and its reproducible views."""

import itertools
import math

import kornia.augmentation as K
import kornia.enhance
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from sslgeom.training.augment import (
    PerImageColorJitter,
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


def policy_jitter(strength: float) -> PerImageColorJitter:
    """The per-image colour jitter at the policy's settings (module docstring)."""
    s = strength
    return PerImageColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s, p=0.8 * s)


def per_image_draws(strength: float, n_images: int = POLICY_DRAWS) -> dict[str, torch.Tensor]:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return policy_jitter(strength).forward_parameters(n_images, torch.device("cpu"))


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_per_image_jitter_factors_are_uniform_on_the_readme_bounds(strength):
    factors = per_image_draws(strength)["factors"]
    bounds = [(1 - 0.8 * strength, 1 + 0.8 * strength)] * 3 + [(-0.2 * strength, 0.2 * strength)]
    for column, (name, (low, high)) in enumerate(
        zip(("brightness", "contrast", "saturation", "hue"), bounds, strict=True)
    ):
        values = factors[:, column].double()
        assert low <= values.min().item() < low + 1e-3 * (high - low), name
        assert high - 1e-3 * (high - low) < values.max().item() <= high, name
        assert stats.kstest(values.numpy(), stats.uniform(low, high - low).cdf).pvalue > 1e-3, name


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_per_image_jitter_changes_the_images_it_draws_at_the_readme_rate(strength):
    images = torch.rand(POLICY_DRAWS, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    jitter, draws = policy_jitter(strength), per_image_draws(strength)
    changed = (jitter.apply(images, draws) != images).flatten(1).any(1)
    assert torch.equal(changed, draws["applied"])
    probability = 0.8 * strength
    four_sigma = 4 * math.sqrt(probability * (1 - probability) / POLICY_DRAWS)
    assert abs(changed.float().mean().item() - probability) < four_sigma


ORDERS = list(itertools.permutations(range(4)))


def order_codes(order: torch.Tensor) -> torch.Tensor:
    """Each row's permutation of 0..3 as its index in ORDERS (lexicographic)."""
    codes = {permutation: code for code, permutation in enumerate(ORDERS)}
    return torch.tensor([codes[tuple(row)] for row in order.tolist()])


def test_per_image_jitter_orders_are_uniform_and_independent_between_images():
    order = per_image_draws(1.0, n_images=24 * 1000)["order"]
    codes = order_codes(order)  # raises KeyError on a row that is not a permutation
    counts = torch.bincount(codes, minlength=24).numpy()
    assert stats.chisquare(counts).pvalue > 1e-3
    # two images of one call: their orders jointly uniform over the 24², not shared
    first, second = codes.chunk(2)
    joint = torch.bincount(first * 24 + second, minlength=24 * 24).numpy()
    assert stats.chisquare(joint).pvalue > 1e-3
    differ = (first != second).float().mean().item()
    assert abs(differ - 23 / 24) < 4 * math.sqrt(23 / 24**2 / len(first))


def jitter_one_image(image: torch.Tensor, factors: torch.Tensor, order) -> torch.Tensor:
    """The reference: kornia's functional colour operations on one image, in ``order``, with the
    clamps of kornia's ColorJitter before and after."""
    operations = [
        kornia.enhance.adjust_brightness_accumulative,
        kornia.enhance.adjust_contrast_with_mean_subtraction,
        kornia.enhance.adjust_saturation_with_gray_subtraction,
        lambda x, factor: kornia.enhance.adjust_hue(x, factor * 2 * math.pi),
    ]
    x = image[None].clamp(0.0, 1.0)
    for index in order:
        x = operations[index](x, factors[index : index + 1])
    return x[0].clamp(0.0, 1.0)


def test_per_image_jitter_applies_kornias_operations_in_each_images_order():
    generator = torch.Generator().manual_seed(2)
    images = torch.rand(96, 3, 8, 8, generator=generator)
    images[:24] = images[:24].round()  # saturated pixels, which the clamps meet
    images[24:30] = images[24:30, :1]  # gray images
    jitter = policy_jitter(1.0)
    draws = jitter.forward_parameters(len(images), torch.device("cpu"))
    draws["order"] = torch.tensor([ORDERS[i % 24] for i in range(len(images))])
    draws["applied"] = torch.arange(len(images)) % 7 != 0
    out = jitter.apply(images, draws)
    for image, result, factors, order, applied in zip(
        images, out, draws["factors"], draws["order"].tolist(), draws["applied"], strict=True
    ):
        expected = jitter_one_image(image, factors, order) if applied else image
        torch.testing.assert_close(result, expected, rtol=1e-6, atol=1e-6)


def test_per_image_jitter_in_one_order_is_kornias_colour_jitter_in_that_order():
    images = torch.rand(24, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    jitter = policy_jitter(1.0)
    for order in ORDERS:
        draws = jitter.forward_parameters(len(images), torch.device("cpu"))
        draws["order"] = torch.tensor(order).expand(len(images), -1)
        draws["applied"][:] = True
        kornias = K.ColorJitter(0.8, 0.8, 0.8, 0.2, p=1.0, order=order)
        names = ("brightness", "contrast", "saturation", "hue")
        parameters = kornias.forward_parameters(images.shape) | {
            f"{name}_factor": factor for name, factor in zip(names, draws["factors"].T, strict=True)
        }
        torch.testing.assert_close(
            jitter.apply(images, draws), kornias(images, params=parameters), rtol=0, atol=1e-6
        )


def record_draws(module, monkeypatch) -> list[dict[str, torch.Tensor]]:
    """The parameters each later call of ``module`` draws, appended as it draws them."""
    drawn, draw = [], module.forward_parameters

    def recording(*args, **kwargs):
        drawn.append(draw(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(module, "forward_parameters", recording)
    return drawn


def test_batched_pair_draws_the_two_views_of_an_image_independently(monkeypatch):
    n_images = 2400
    images = torch.rand(n_images, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    augment = StrengthAugmentation(1.0, SIZE)
    crop, jitter = augment.pair_ops[0], augment.pair_ops[1]
    crops, jitters = record_draws(crop, monkeypatch), record_draws(jitter, monkeypatch)
    torch.manual_seed(0)
    first, second = augment.batched_pair(images, images)
    assert first.shape == second.shape == images.shape
    assert len(crops) == len(jitters) == 1  # one call for both views
    assert len(crops[0]["src"]) == len(jitters[0]["order"]) == 2 * n_images
    assert (first != second).flatten(1).any(1).all()
    boxes = crops[0]["src"].chunk(2)
    same_box = (boxes[0] == boxes[1]).flatten(1).all(1).float().mean().item()
    assert same_box < 0.01
    orders = jitters[0]["order"].chunk(2)
    differ = (orders[0] != orders[1]).any(1).float().mean().item()
    assert abs(differ - 23 / 24) < 4 * math.sqrt(23 / 24**2 / n_images)
    factors = jitters[0]["factors"].chunk(2)
    assert not torch.isclose(factors[0], factors[1]).any()


@pytest.mark.parametrize("channels", [1, 3])
def test_batched_pair_gives_views_of_the_images_shape_in_the_unit_range(channels):
    images = float_images()[:, :channels]
    first, second = StrengthAugmentation(1.0, SIZE).batched_pair(images, images)
    for view in (first, second):
        assert view.shape == images.shape
        assert view.min().item() >= 0.0 and view.max().item() <= 1.0
    assert not torch.equal(first, second)


def test_batched_pair_at_zero_strength_is_the_identity():
    images, other = float_images(), float_images(seed=1)
    first, second = StrengthAugmentation(0.0, SIZE).batched_pair(images, other)
    assert torch.equal(first, images) and torch.equal(second, other)


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_the_policy_on_the_cpu_is_kornias_modules_in_sequence(strength):
    """What every CPU number was made with: kornia's crop, colour jitter (one order per call),
    grayscale and flip, drawn in that order, one call per view."""
    s, images = strength, float_images(32)
    kornias = torch.nn.Sequential(
        K.RandomResizedCrop(SIZE, scale=(1 - 0.92 * s, 1.0), ratio=((3 / 4) ** s, (4 / 3) ** s)),
        K.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s, p=0.8 * s),
        K.RandomGrayscale(p=0.2 * s),
        K.RandomHorizontalFlip(p=0.5 * s),
    )
    torch.manual_seed(5)
    expected = [kornias(images).clamp(0.0, 1.0) for _ in range(2)]
    augment = StrengthAugmentation(strength, SIZE)
    torch.manual_seed(5)
    assert all(torch.equal(augment(images), view) for view in expected)
