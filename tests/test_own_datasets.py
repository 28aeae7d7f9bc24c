"""Datasets of your own: image folders and npz files, their split, resizing and channels, the
fingerprint of their source, and the one-line errors of bad sources at config validation."""

import math
import os

import numpy as np
import pytest
import yaml
from conftest import REPO, TINY_CONFIG
from PIL import Image

from sslgeom.config.validate import ConfigError, validate_config
from sslgeom.data import SourceError, build_dataset, inspect_source, source_files
from sslgeom.data.sources import source_fingerprint
from sslgeom.data.splits import stratified_split

SCHEMAS = REPO / "workflow" / "schemas"


def write_image(path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def class_folder(root, counts: dict[str, int], size=(8, 8), value=lambda label, index: 0):
    """An image folder with ``counts[name]`` grayscale images per class, each filled with
    ``value(label, index)`` (label: the class's rank in sorted order)."""
    for label, name in enumerate(sorted(counts)):
        for index in range(counts[name]):
            pixels = np.full(size[::-1], value(label, index), dtype=np.uint8)
            write_image(root / name / f"{index:03d}.png", pixels)
    return root


def label_coded(label: int, index: int) -> int:
    """A pixel value that carries its image's class (tens) and index (units)."""
    return 100 * label + index


# The stratified split


def test_split_gives_each_class_its_share_of_the_test_set():
    labels = np.repeat([0, 1, 2], [6, 3, 3])
    train, test = stratified_split(labels, 4, np.random.default_rng(0))
    # quotas 4·6/12 = 2, 4·3/12 = 1, 1: whole numbers, no remainder to place
    assert np.bincount(labels[test]).tolist() == [2, 1, 1]
    assert np.bincount(labels[train]).tolist() == [4, 2, 2]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(12))


def test_split_places_the_remainder_by_largest_fraction():
    labels = np.repeat([0, 1, 2], [5, 7, 3])
    _, test = stratified_split(labels, 4, np.random.default_rng(0))
    # quotas 1.33, 1.87, 0.8: floors 1, 1, 0; the two left go to classes 1 (.87) and 2 (.8)
    assert np.bincount(labels[test]).tolist() == [1, 2, 1]


def test_split_of_equal_classes_breaks_ties_by_seed():
    labels = np.repeat([0, 1, 2, 3], 5)
    extra_classes = set()
    for seed in range(20):
        _, test = stratified_split(labels, 6, np.random.default_rng(seed))
        counts = np.bincount(labels[test], minlength=4)
        assert sorted(counts.tolist()) == [1, 1, 2, 2]
        extra_classes.add(tuple(np.flatnonzero(counts == 2)))
    assert len(extra_classes) > 1, "the classes that get one more must depend on the seed"


def test_split_is_seeded():
    labels = np.repeat([0, 1], 50)
    first = stratified_split(labels, 10, np.random.default_rng(3))
    again = stratified_split(labels, 10, np.random.default_rng(3))
    other = stratified_split(labels, 10, np.random.default_rng(4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert set(first[1]) != set(other[1])


def test_split_keeps_training_examples_in_every_class():
    with pytest.raises(ValueError, match="class 1 would give all its 2"):
        stratified_split(np.repeat([0, 1], [10, 2]), 11, np.random.default_rng(0))


# Image folders


def test_folder_images_keep_their_class_and_split_is_stratified(tmp_path):
    root = class_folder(tmp_path / "images", {"cat": 6, "dog": 3, "eel": 3}, value=label_coded)
    dataset = build_dataset("pets", folder=str(root), n_test=4, seed=1)
    assert dataset.name == "pets" and dataset.class_names == ("cat", "dog", "eel")
    assert np.bincount(dataset.test_labels).tolist() == [2, 1, 1]
    assert np.bincount(dataset.train_labels).tolist() == [4, 2, 2]
    for split in ("train", "test"):
        images, labels = getattr(dataset, f"{split}_images"), getattr(dataset, f"{split}_labels")
        assert images.shape[1:] == (8, 8, 1) and images.dtype == np.uint8
        np.testing.assert_array_equal(images[:, 0, 0, 0] // 100, labels)
    codes = np.concatenate([dataset.train_images[:, 0, 0, 0], dataset.test_images[:, 0, 0, 0]])
    assert sorted(codes.tolist()) == [*range(6), *range(100, 103), *range(200, 203)]


def test_folder_split_by_fraction_rounds_up_and_is_seeded(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 10, "b": 5}, value=label_coded)
    first = build_dataset("x", folder=str(root), test_fraction=0.3, seed=0)
    assert len(first.test_labels) == math.ceil(0.3 * 15) == 5
    again = build_dataset("x", folder=str(root), test_fraction=0.3, seed=0)
    other = build_dataset("x", folder=str(root), test_fraction=0.3, seed=5)
    np.testing.assert_array_equal(first.test_images, again.test_images)
    assert not np.array_equal(first.test_images, other.test_images)


def test_folder_with_train_and_test_subfolders_gives_the_split(tmp_path):
    root = tmp_path / "images"
    class_folder(root / "train", {"a": 4, "b": 3}, value=label_coded)
    class_folder(root / "test", {"a": 2, "b": 1}, value=lambda label, i: 50 + label_coded(label, i))
    dataset = build_dataset("x", folder=str(root), seed=0)
    assert np.bincount(dataset.train_labels).tolist() == [4, 3]
    assert np.bincount(dataset.test_labels).tolist() == [2, 1]
    assert sorted(dataset.test_images[:, 0, 0, 0].tolist()) == [50, 51, 150]
    np.testing.assert_array_equal(dataset.train_images[:, 0, 0, 0] // 100, dataset.train_labels)


def test_folder_skips_hidden_files_and_reads_nested_ones(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 2, "b": 2})
    (root / "a" / ".DS_Store").write_text("not an image")
    (root / "README.txt").write_text("files beside the class folders are not examples")
    write_image(root / "b" / "more" / "deep.png", np.zeros((8, 8), np.uint8))
    summary = inspect_source({"folder": str(root), "n_test": 2})
    assert summary.n_train + summary.n_test == 5


def test_resize_scales_the_shorter_side_and_crops_the_centre(tmp_path):
    # 60 wide, 20 high: red, green and blue thirds; the centred square is the green third
    thirds = np.zeros((20, 60, 3), np.uint8)
    for index in range(3):
        thirds[:, 20 * index : 20 * (index + 1), index] = 255
    for copy in range(2):
        write_image(tmp_path / "images" / "a" / f"thirds{copy}.png", thirds)
        write_image(
            tmp_path / "images" / "b" / f"flat{copy}.png", np.full((30, 40, 3), 77, np.uint8)
        )
    dataset = build_dataset("x", folder=str(tmp_path / "images"), image_size=10, test_fraction=0.5)
    images = dict(zip(*_all(dataset), strict=True))
    assert images[0].shape == images[1].shape == (10, 10, 3)
    green = np.broadcast_to(np.array([0, 255, 0]), (6, 6, 3))
    np.testing.assert_allclose(images[0][2:-2, 2:-2], green, atol=2)
    np.testing.assert_array_equal(images[1], np.full((10, 10, 3), 77))


def test_channels_inferred_from_the_images_or_configured(tmp_path):
    root = tmp_path / "images"
    for copy in range(2):
        write_image(root / "gray" / f"g{copy}.png", np.full((8, 8), 200, np.uint8))
        red = np.tile(np.array([255, 0, 0], np.uint8), (8, 8, 1))
        write_image(root / "red" / f"r{copy}.png", red)
    mixed = build_dataset("x", folder=str(root), test_fraction=0.5)
    images = dict(zip(*_all(mixed), strict=True))
    assert images[0].shape == (8, 8, 3), "one colour image makes the dataset RGB"
    np.testing.assert_array_equal(images[0], np.full((8, 8, 3), 200))
    gray = build_dataset("x", folder=str(root), channels=1, test_fraction=0.5)
    images = dict(zip(*_all(gray), strict=True))
    # ITU-R 601-2 luma, as Pillow converts RGB to L: 299/1000 of red
    np.testing.assert_array_equal(images[1], np.full((8, 8, 1), 255 * 299 // 1000))
    np.testing.assert_array_equal(images[0], np.full((8, 8, 1), 200))


def _all(dataset) -> tuple[np.ndarray, np.ndarray]:
    """Labels and images of both splits together."""
    labels = np.concatenate([dataset.train_labels, dataset.test_labels])
    return labels, np.concatenate([dataset.train_images, dataset.test_images])


# npz files


def npz_arrays(n=20, classes=2, latents=True) -> dict[str, np.ndarray]:
    """Images whose pixels are their index, labels index mod classes, latents (index, −index)."""
    index = np.arange(n)
    arrays = {
        "images": np.broadcast_to(index[:, None, None, None], (n, 4, 4, 3)).astype(np.uint8),
        "labels": index % classes,
    }
    if latents:
        arrays["latents"] = np.column_stack([index, -index]).astype(np.float64)
    return arrays


def test_npz_examples_keep_their_labels_and_latents(tmp_path):
    np.savez(tmp_path / "data.npz", **npz_arrays(), latent_names=np.array(["up", "down"]))
    dataset = build_dataset("mine", npz=str(tmp_path / "data.npz"), n_test=6, seed=2)
    assert np.bincount(dataset.test_labels).tolist() == [3, 3]
    assert dataset.latent_names == ("up", "down") and dataset.train_latents.dtype == np.float32
    for split in ("train", "test"):
        index = getattr(dataset, f"{split}_images")[:, 0, 0, 0].astype(np.int64)
        np.testing.assert_array_equal(getattr(dataset, f"{split}_labels"), index % 2)
        np.testing.assert_array_equal(getattr(dataset, f"{split}_latents")[:, 1], -index)


def test_npz_latent_names_default_and_a_given_split(tmp_path):
    arrays = npz_arrays()
    given = {f"train_{k}": v[:15] for k, v in arrays.items()}
    given |= {f"test_{k}": v[15:] for k, v in arrays.items()}
    np.savez(tmp_path / "split.npz", **given)
    dataset = build_dataset("mine", npz=str(tmp_path / "split.npz"), seed=0)
    assert dataset.latent_names == ("z1", "z2")
    assert sorted(dataset.test_images[:, 0, 0, 0].tolist()) == list(range(15, 20))
    assert dataset.test_images[:, 0, 0, 0].tolist() != list(range(15, 20)), "shuffled"


# The fingerprint of a source


def test_fingerprint_changes_with_an_edit_an_older_copy_or_a_new_file_only(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 2, "b": 2})
    fingerprint = source_fingerprint(*source_files({"folder": str(root)}))
    assert source_fingerprint(*source_files({"folder": str(root)})) == fingerprint
    image = root / "a" / "000.png"
    status = image.stat()
    write_image(image, np.full((8, 8), 9, np.uint8))  # same size, new content
    os.utime(image, ns=(status.st_atime_ns, status.st_mtime_ns - 10**9))  # an older copy
    edited = source_fingerprint(*source_files({"folder": str(root)}))
    assert edited != fingerprint
    write_image(root / "b" / "new.png", np.zeros((8, 8), np.uint8))
    assert source_fingerprint(*source_files({"folder": str(root)})) not in (fingerprint, edited)


# Bad sources: one line at config validation, naming the key and the path


def own_config(parameters: dict) -> dict:
    """The tiny config with its runs on one dataset of your own, ``mine``."""
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["datasets"] = {"mine": parameters}
    config["experiments"]["tiny"]["grid"]["dataset"] = ["mine"]
    config["experiments"]["tiny"]["settings"]["batch_size"] = 8
    config["embedding"]["n_view_images"] = 4
    config["geometry"]["n_images"] = 4
    return config


def config_error(parameters: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        validate_config(own_config(parameters), SCHEMAS)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_good_sources_pass_validation_with_their_split_sizes(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 12, "b": 12})
    validate_config(own_config({"folder": str(root), "n_test": 4}), SCHEMAS)
    config = own_config({"folder": str(root), "n_test": 4})
    config["experiments"]["tiny"]["settings"]["batch_size"] = 21
    assert "larger than the training set of mine (20 images)" in config_error_of(config)


def config_error_of(config: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        validate_config(config, SCHEMAS)
    return str(raised.value)


def test_bad_folders_are_named(tmp_path):
    missing = tmp_path / "missing"
    assert config_error({"folder": str(missing), "n_test": 2}) == (
        f"config error at datasets.mine.folder: {missing} does not exist"
    )
    (tmp_path / "empty").mkdir()
    assert f"{tmp_path / 'empty'} is empty" in config_error({"folder": str(tmp_path / "empty")})
    single = class_folder(tmp_path / "single", {"only": 5})
    assert f"{single} has a single class (only)" in config_error({"folder": str(single)})
    loose = tmp_path / "loose"
    write_image(loose / "a.png", np.zeros((8, 8), np.uint8))
    assert f"{loose} has no class subfolders" in config_error({"folder": str(loose)})


def test_unreadable_files_are_named_the_first_few(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 6, "b": 6})
    for name in ("notes.txt", "x.png", "y.jpg", "z.png"):
        (root / "b" / name).write_text("not an image")
    message = config_error({"folder": str(root), "n_test": 2})
    named = ", ".join(
        f"{root / 'b' / name} (not an image Pillow reads)"
        for name in ("notes.txt", "x.png", "y.jpg")
    )
    assert message == (
        "config error at datasets.mine.folder: 4 of 16 files cannot be read as images: "
        f"{named} and 1 more"
    )


def test_mixed_sizes_need_image_size(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 6, "b": 6})
    write_image(root / "b" / "wide.png", np.zeros((8, 12), np.uint8))
    message = config_error({"folder": str(root), "n_test": 2})
    assert f"images of different sizes ({root / 'a' / '000.png'} is 8×8, " in message
    assert f"{root / 'b' / 'wide.png'} 12×8); set image_size" in message
    validate_config(own_config({"folder": str(root), "n_test": 4, "image_size": 8}), SCHEMAS)


def test_split_options_are_checked(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 6, "b": 6})
    assert "config error at datasets.mine: no test split" in config_error({"folder": str(root)})
    both = {"folder": str(root), "n_test": 2, "test_fraction": 0.5}
    assert "at datasets.mine.test_fraction: n_test is given too" in config_error(both)
    too_many = config_error({"folder": str(root), "n_test": 11})
    assert "at datasets.mine.n_test: n_test=11 must leave every class training examples" in too_many
    given = tmp_path / "given"
    class_folder(given / "train", {"a": 6, "b": 6})
    class_folder(given / "test", {"a": 2, "b": 2})
    assert "at datasets.mine.n_test: the source gives its own train/test split" in config_error(
        {"folder": str(given), "n_test": 2}
    )
    class_folder(given / "test", {"c": 1})
    assert f"{given / 'test' / 'c'} is a class that {given / 'train'} lacks" in config_error(
        {"folder": str(given)}
    )


def test_source_options_are_checked(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 6, "b": 6})
    np.savez(tmp_path / "data.npz", **npz_arrays())
    npz = str(tmp_path / "data.npz")
    assert "at datasets.mine.npz: folder is given too" in config_error(
        {"folder": str(root), "npz": npz, "n_test": 2}
    )
    assert "at datasets.mine.image_size: an npz file's images are used as stored" in config_error(
        {"npz": npz, "n_test": 2, "image_size": 8}
    )
    assert "at datasets.mine: unknown key 'n_tset' (did you mean 'n_test'?)" in config_error(
        {"npz": npz, "n_tset": 2}
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"images": np.zeros((20, 4, 4, 3), np.float32)},
            "images must be uint8 N×H×W×C with C = 1 or 3, not float32 of shape (20, 4, 4, 3)",
        ),
        (
            {"images": np.zeros((20, 4, 4), np.uint8)},
            "images must be uint8 N×H×W×C with C = 1 or 3, not uint8 of shape (20, 4, 4)",
        ),
        ({"labels": np.zeros(20, np.float64)}, "labels must hold integers, not float64"),
        ({"labels": np.zeros(20, np.int64)}, "labels hold a single class"),
        ({"labels": np.array(3)}, "labels must be a vector of integers ≥ 0, one per image"),
        ({"latents": np.array(1.0)}, "latents must be finite numbers, N×K"),
        ({"latents": np.zeros((19, 2))}, "latents has 19 rows for 20 images"),
        ({"latents": np.array(["a"] * 20)}, "latents must hold real numbers, not <U1"),
        ({"latents": np.full((20, 2), np.nan)}, "latents must be finite numbers"),
        ({"latent_names": np.array(["a"])}, "latent_names must be 2 distinct names"),
        ({"labels": None}, "lacks the arrays labels"),
        ({"train_images": np.zeros((2, 4, 4, 3), np.uint8)}, "has arrays images, labels, latents"),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, str) else None,
)
def test_bad_npz_files_are_named(tmp_path, change, problem):
    arrays = {key: value for key, value in (npz_arrays() | change).items() if value is not None}
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    assert config_error({"npz": str(path), "n_test": 4}).startswith(
        f"config error at datasets.mine.npz: {path}"
    )
    assert problem in config_error({"npz": str(path), "n_test": 4})


def test_npz_that_is_not_an_archive_is_named(tmp_path):
    path = tmp_path / "data.npz"
    path.write_text("not a zip")
    assert f"{path} is not a readable npz file" in config_error({"npz": str(path), "n_test": 2})
    with pytest.raises(SourceError, match="does not exist"):
        inspect_source({"npz": str(tmp_path / "missing.npz"), "n_test": 2})
