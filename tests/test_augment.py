"""The strength-scaled augmentation policy and its reproducible views."""

import numpy as np
import pytest
import torch

from sslgeom.augment import StrengthAugmentation, example_views, to_float_images, views

torch.set_num_threads(1)

SIZE = (16, 16)


def float_images(n: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, *SIZE, generator=torch.Generator().manual_seed(seed))


def uint8_images(n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *SIZE, 3), dtype=np.uint8)


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_output_shape_dtype_and_range(strength):
    images = float_images()
    out = StrengthAugmentation(strength, SIZE)(images)
    assert out.shape == images.shape
    assert out.dtype == torch.float32
    assert out.min() >= 0.0
    assert out.max() <= 1.0


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
