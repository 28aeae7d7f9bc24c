"""Tests for sslgeom.data: the shapes renderer, the MNIST5k split, and dataset storage."""

import hashlib
import json

import numpy as np
import pytest

from sslgeom.data import DATASET_BUILDERS, Dataset, build_dataset, load_dataset, save_dataset
from sslgeom.data.io import sidecar_path
from sslgeom.data.mnist import make_mnist5k
from sslgeom.data.shapes import (
    BACKGROUND_SATURATION,
    BACKGROUND_VALUE,
    LATENT_NAMES,
    OBJECT_SATURATION,
    OBJECT_VALUE,
    SHAPE_CLASSES,
    STYLE_LATENTS,
    hsv_to_rgb,
    make_shapes,
    object_coverage,
    render,
    sample_latents,
)

SIZE = 32
POS_X = LATENT_NAMES.index("pos_x")
OBJECT_HUE = LATENT_NAMES.index("object_hue")
BACKGROUND_HUE = LATENT_NAMES.index("background_hue")


@pytest.fixture(scope="module")
def small_shapes() -> Dataset:
    return make_shapes(n_train=103, n_test=21, seed=0)


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return make_mnist5k(n_test=1000, seed=0)


def centred_latents(shape: int = 0) -> np.ndarray:
    """One latent vector: a shape at the centre, scale 1, rotation 0.3, distinct hues."""
    return np.array([[shape, 0.0, 0.0, 1.0, 0.3, 0.1, 0.6]])


def assert_same_arrays(first: Dataset, second: Dataset) -> None:
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(first, key), getattr(second, key))


# Shapes


def test_latent_names_split_into_content_and_style():
    assert LATENT_NAMES[0] == "shape"
    assert LATENT_NAMES[1:] == STYLE_LATENTS


def test_sample_latents_ranges_and_balance():
    latents = sample_latents(1003, np.random.default_rng(1))
    assert latents.shape == (1003, 7) and latents.dtype == np.float64
    counts = np.bincount(latents[:, 0].astype(int), minlength=len(SHAPE_CLASSES))
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(latents[:, 0], np.rint(latents[:, 0]))
    bounds = {
        "pos_x": (-0.5, 0.5),
        "pos_y": (-0.5, 0.5),
        "scale": (0.5, 1.0),
        "rotation": (0.0, 2 * np.pi),
        "object_hue": (0.0, 1.0),
        "background_hue": (0.0, 1.0),
    }
    for name, (low, high) in bounds.items():
        column = latents[:, LATENT_NAMES.index(name)]
        assert low <= column.min() and column.max() <= high, name


def test_make_shapes_types_and_labels(small_shapes):
    assert small_shapes.train_images.shape == (103, SIZE, SIZE, 3)
    assert small_shapes.test_images.shape == (21, SIZE, SIZE, 3)
    assert small_shapes.train_images.dtype == np.uint8
    assert small_shapes.train_labels.dtype == np.int64
    assert small_shapes.train_latents.shape == (103, 7)
    assert small_shapes.train_latents.dtype == np.float32
    np.testing.assert_array_equal(small_shapes.train_labels, small_shapes.train_latents[:, 0])
    assert small_shapes.num_classes == len(SHAPE_CLASSES) == 5
    assert small_shapes.latent_names == LATENT_NAMES


def test_make_shapes_images_match_their_latents(small_shapes):
    rendered = np.rint(render(small_shapes.test_latents) * 255).astype(np.uint8)
    np.testing.assert_array_equal(rendered, small_shapes.test_images)


def test_make_shapes_is_deterministic_in_seed(small_shapes):
    assert_same_arrays(small_shapes, make_shapes(n_train=103, n_test=21, seed=0))
    other = make_shapes(n_train=103, n_test=21, seed=1)
    assert not np.array_equal(small_shapes.train_images, other.train_images)


def test_render_range_and_dtype():
    images = render(sample_latents(50, np.random.default_rng(2)))
    assert images.shape == (50, SIZE, SIZE, 3) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_shape_classes_are_distinct_and_in_view():
    latents = np.repeat(centred_latents(), len(SHAPE_CLASSES), axis=0)
    latents[:, 0] = np.arange(len(SHAPE_CLASSES))
    masks = object_coverage(latents) > 0.5
    for first in range(len(SHAPE_CLASSES)):
        for second in range(first + 1, len(SHAPE_CLASSES)):
            assert (masks[first] != masks[second]).sum() >= 10, (first, second)
    corner = centred_latents(shape=1)
    corner[0, 1:4] = [0.5, 0.5, 1.0]
    assert object_coverage(corner).sum() >= 0.9 * object_coverage(centred_latents(1)).sum()


def test_render_is_continuous_in_position_scale_and_rotation():
    base = centred_latents(shape=4)
    image = render(base)
    for name in ("pos_x", "pos_y", "scale", "rotation"):
        nudged = base.copy()
        nudged[0, LATENT_NAMES.index(name)] += 1e-4
        change = np.abs(render(nudged) - image).max()
        assert 0.0 < change < 1e-2, name


def test_one_pixel_move_shifts_the_image_by_one_pixel():
    base = centred_latents(shape=2)
    base[0, POS_X] = 0.1
    moved = base.copy()
    moved[0, POS_X] += 2.0 / SIZE
    shifted = np.roll(render(base), 1, axis=2)
    np.testing.assert_allclose(render(moved)[:, :, 1:], shifted[:, :, 1:], atol=1e-5)


def test_hue_changes_colour_but_not_mask():
    base = centred_latents(shape=3)
    recoloured = base.copy()
    recoloured[0, OBJECT_HUE] = 0.4
    recoloured[0, BACKGROUND_HUE] = 0.9
    for latents in (base, recoloured):
        image = render(latents)[0]
        object_rgb = hsv_to_rgb(latents[0, OBJECT_HUE], OBJECT_SATURATION, OBJECT_VALUE)
        background_rgb = hsv_to_rgb(
            latents[0, BACKGROUND_HUE], BACKGROUND_SATURATION, BACKGROUND_VALUE
        )
        contrast = object_rgb - background_rgb
        coverage = (image - background_rgb) @ contrast / (contrast @ contrast)
        np.testing.assert_allclose(coverage, object_coverage(base)[0], atol=1e-5)
    assert np.abs(render(base) - render(recoloured)).min() > 0.0


def test_hsv_to_rgb_primary_hues():
    rgb = hsv_to_rgb(np.array([0.0, 1 / 3, 2 / 3]), 1.0, 1.0)
    np.testing.assert_allclose(rgb, np.eye(3), atol=1e-12)


# MNIST5k


def test_mnist5k_split_sizes_and_stratification(mnist):
    assert mnist.train_images.shape == (4000, SIZE, SIZE, 3)
    assert mnist.test_images.shape == (1000, SIZE, SIZE, 3)
    assert mnist.train_images.dtype == np.uint8 and mnist.train_labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(mnist.test_labels), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(mnist.train_labels), np.full(10, 400))
    assert mnist.train_latents is None and mnist.num_classes == 10


def test_mnist5k_uneven_test_size_is_as_balanced_as_possible():
    counts = np.bincount(make_mnist5k(n_test=1005, seed=3).test_labels)
    assert counts.sum() == 1005 and counts.max() - counts.min() == 1


def test_mnist5k_train_and_test_do_not_overlap(mnist):
    train = {image.tobytes() for image in mnist.train_images}
    test = {image.tobytes() for image in mnist.test_images}
    assert len(train) + len(test) == 5000  # the 5 000 digits are pairwise distinct
    assert not train & test


def test_mnist5k_padding_and_channels(mnist):
    images = mnist.train_images
    assert not images[:, :2].any() and not images[:, -2:].any()
    assert not images[:, :, :2].any() and not images[:, :, -2:].any()
    assert images.max() > 200
    np.testing.assert_array_equal(images[..., 0], images[..., 2])


def test_mnist5k_is_deterministic_in_seed(mnist):
    assert_same_arrays(mnist, make_mnist5k(n_test=1000, seed=0))
    other = make_mnist5k(n_test=1000, seed=1)
    assert not np.array_equal(mnist.test_labels, other.test_labels)


def test_mnist5k_rejects_a_test_set_that_empties_a_class():
    with pytest.raises(ValueError, match="n_test"):
        make_mnist5k(n_test=5000, seed=0)


# Storage and registry


def test_save_load_round_trip(tmp_path, small_shapes):
    path = tmp_path / "nested" / "shapes.npz"
    save_dataset(small_shapes, path)
    loaded = load_dataset(path)
    assert_same_arrays(small_shapes, loaded)
    np.testing.assert_array_equal(loaded.train_latents, small_shapes.train_latents)
    assert loaded.name == "shapes"
    assert loaded.class_names == SHAPE_CLASSES and loaded.latent_names == LATENT_NAMES
    metadata = json.loads(sidecar_path(path).read_text())
    assert metadata["shapes"]["train_images"] == [103, SIZE, SIZE, 3]
    assert metadata["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in path.parent.iterdir()) == ["shapes.json", "shapes.npz"]


def test_save_load_round_trip_without_latents(tmp_path, mnist):
    path = tmp_path / "mnist.npz"
    save_dataset(mnist, path)
    loaded = load_dataset(path)
    assert_same_arrays(mnist, loaded)
    assert loaded.train_latents is None and loaded.test_latents is None
    assert loaded.num_classes == 10


def replace_npz_keeping_checksum(path, content: bytes) -> None:
    """Overwrite a saved npz and update its sidecar so only the npz itself is wrong."""
    path.write_bytes(content)
    metadata = json.loads(sidecar_path(path).read_text())
    metadata["sha256"] = hashlib.sha256(content).hexdigest()
    sidecar_path(path).write_text(json.dumps(metadata))


@pytest.mark.parametrize("keep_checksum", [False, True])
def test_truncated_npz_raises_value_error_naming_the_file(tmp_path, small_shapes, keep_checksum):
    path = tmp_path / "shapes.npz"
    save_dataset(small_shapes, path)
    truncated = path.read_bytes()[: path.stat().st_size // 2]
    if keep_checksum:
        replace_npz_keeping_checksum(path, truncated)
    else:
        path.write_bytes(truncated)
    with pytest.raises(ValueError, match="delete") as excinfo:
        load_dataset(path)
    assert str(path) in str(excinfo.value)


def test_npz_with_missing_arrays_raises_value_error(tmp_path, small_shapes):
    path = tmp_path / "shapes.npz"
    save_dataset(small_shapes, path)
    partial = tmp_path / "partial.npz"
    np.savez(partial, train_images=small_shapes.train_images)
    replace_npz_keeping_checksum(path, partial.read_bytes())
    with pytest.raises(ValueError, match="test_labels"):
        load_dataset(path)


def test_missing_sidecar_raises_value_error(tmp_path, small_shapes):
    path = tmp_path / "shapes.npz"
    save_dataset(small_shapes, path)
    sidecar_path(path).unlink()
    with pytest.raises(ValueError, match="shapes.json"):
        load_dataset(path)


def test_build_dataset_dispatches_to_the_builders():
    assert set(DATASET_BUILDERS) == {"shapes", "mnist5k", "cifar10", "cifar100", "stl10", "vectors"}
    built = build_dataset("shapes", n_train=10, n_test=5, seed=4, size=16)
    assert built.train_images.shape == (10, 16, 16, 3)


def test_vectors_with_a_suffix_are_built_as_vectors():
    built = build_dataset("vectors_box", n_train=10, n_test=5, seed=0, latent_dim=3, space="box")
    assert built.generator["kind"] == "vectors" and built.generator["space"] == "box"
    assert built.train_images.shape == (10, 3) and built.train_images.dtype == np.float32


def test_build_dataset_rejects_unknown_names():
    with pytest.raises(
        ValueError, match=r"'cifar'.*cifar10, cifar100, mnist5k, shapes, stl10, vectors"
    ):
        build_dataset("cifar")
