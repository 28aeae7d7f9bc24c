"""Image folders as users have them: 16-bit grey levels, EXIF orientation, transparency,
palettes, links, and files that fail to decode, through the config check (before any job) and
the dataset build (the make_own_dataset job)."""

import os

import numpy as np
import pytest
from PIL import Image
from test_own_datasets import SCHEMAS, class_folder, config_error, own_config, write_image

from sslgeom.config.validate import validate_config
from sslgeom.data import SourceError, build_dataset, inspect_source

EXIF_ORIENTATION = 0x0112


def pixels_by_label(root, **options) -> dict[int, np.ndarray]:
    """Label → the first stored image of that class, built as the make_own_dataset job does."""
    dataset = build_dataset("mine", folder=str(root), test_fraction=0.5, **options)
    labels = np.concatenate([dataset.train_labels, dataset.test_labels])
    images = np.concatenate([dataset.train_images, dataset.test_images])
    return {label: images[labels == label][0] for label in np.unique(labels)}


def test_sixteen_bit_grey_levels_are_rescaled_not_clipped(tmp_path):
    levels = np.linspace(0, 65535, 16 * 16).round().astype(np.uint16).reshape(16, 16)
    for copy in range(2):
        write_image(tmp_path / "ramp" / f"{copy}.png", levels)
        write_image(tmp_path / "zero" / f"{copy}.png", np.zeros((16, 16), np.uint8))
    assert Image.open(tmp_path / "ramp" / "0.png").mode == "I;16"
    stored = pixels_by_label(tmp_path)[0][..., 0]
    np.testing.assert_array_equal(stored, np.round(levels / 257))  # 65535 / 255 = 257
    assert (stored == 255).mean() < 0.01


def test_exif_orientation_turns_the_image_as_a_viewer_shows_it(tmp_path):
    # stored 24 wide and 16 high, left half dark; orientation 6: shown turned 90° clockwise
    stored = np.full((16, 24), 230, np.uint8)
    stored[:, :12] = 20
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    for copy in range(6):
        path = tmp_path / "photo" / f"{copy}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(stored).save(path, exif=exif, quality=95)
        write_image(tmp_path / "upright" / f"{copy}.png", np.zeros((24, 16), np.uint8))
    # no image_size: the check compares sizes as shown, 16 wide and 24 high for both classes
    validate_config(own_config({"folder": str(tmp_path), "n_test": 4}), SCHEMAS)
    shown = pixels_by_label(tmp_path)[0][..., 0].astype(int)
    assert shown.shape == (24, 16)
    away_from_the_edge = np.r_[0:10, 14:24]  # JPEG rings where dark meets light
    expected = np.rot90(stored, k=-1)[away_from_the_edge]
    np.testing.assert_allclose(shown[away_from_the_edge], expected, atol=8)


def rgba_image() -> np.ndarray:
    """8×8 RGBA: red under full transparency (left), opaque blue (right), and one
    half-transparent green pixel."""
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = [255, 0, 0, 0]
    pixels[:, 4:] = [0, 0, 255, 255]
    pixels[0, 0] = [0, 200, 0, 128]
    return pixels


def composited(pixels: np.ndarray, background: int) -> np.ndarray:
    """Alpha compositing over an opaque grey background, written out: c·a + bg·(1 − a)."""
    alpha = pixels[..., 3:] / 255
    return pixels[..., :3] * alpha + background * (1 - alpha)


@pytest.mark.parametrize("background", [None, 0, 90])
def test_transparent_pixels_are_composited_onto_the_background(tmp_path, background):
    for copy in range(2):
        write_image(tmp_path / "logo" / f"{copy}.png", rgba_image())
        write_image(tmp_path / "plain" / f"{copy}.png", np.zeros((8, 8, 3), np.uint8))
    options = {} if background is None else {"background": background}
    stored = pixels_by_label(tmp_path, **options)[0]
    expected = composited(rgba_image(), 255 if background is None else background)
    np.testing.assert_allclose(stored, expected, atol=1)


def mode_samples() -> dict[str, tuple[Image.Image, int]]:
    """Pillow mode → an 8×8 image in it whose shown grey level is known: opaque 100, or
    transparent where the level is the background's (255)."""
    grey = np.full((8, 8), 100, np.uint8)
    palette = Image.fromarray(grey).convert("P")
    transparent_palette = palette.copy()
    transparent_palette.info["transparency"] = palette.getpixel((0, 0))
    return {
        "L": (Image.fromarray(grey), 100),
        "LA": (Image.merge("LA", [Image.fromarray(grey), Image.new("L", (8, 8), 255)]), 100),
        "LA transparent": (Image.merge("LA", [Image.fromarray(grey), Image.new("L", (8, 8))]), 255),
        "RGB": (Image.fromarray(np.dstack([grey] * 3)), 100),
        "P": (palette, 100),
        "P transparent": (transparent_palette, 255),
        "I;16": (Image.fromarray(grey.astype(np.uint16) * 257), 100),
    }


def test_every_mode_is_read_as_shown(tmp_path):
    samples = mode_samples()
    for name, (image, _) in samples.items():
        for copy in range(2):
            path = tmp_path / name / f"{copy}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path)
    stored = pixels_by_label(tmp_path, channels=1)
    for label, name in enumerate(sorted(samples)):
        np.testing.assert_array_equal(stored[label], np.full((8, 8, 1), samples[name][1]), name)


def test_a_truncated_image_stops_the_check_before_any_job(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 4, "b": 4}, size=(32, 32))
    photo = root / "b" / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32), np.uint8)).save(photo)
    photo.write_bytes(photo.read_bytes()[:-200])
    png = root / "a" / "000.png"
    png.write_bytes(png.read_bytes()[:-8])
    message = config_error({"folder": str(root), "n_test": 2})
    assert message == (
        "config error at datasets.mine.folder: 2 of 9 files cannot be read as images: "
        f"{png} (cut short: no PNG end marker), {photo} (cut short: no JPEG end marker)"
    )


def test_pixels_without_a_defined_range_are_refused(tmp_path):
    root = class_folder(tmp_path / "images", {"a": 2, "b": 2})
    Image.fromarray(np.zeros((8, 8), np.float32)).save(root / "b" / "depth.tif")
    message = config_error({"folder": str(root), "n_test": 2})
    assert f"{root / 'b' / 'depth.tif'} (F pixels (32-bit) have no defined range" in message


def corrupt_pixels(path) -> None:
    """Overwrite the middle of a PNG's compressed pixels: its header and end stay intact."""
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 8
    data[start : start + 20] = bytes(20)
    path.write_bytes(bytes(data))


def test_images_that_fail_to_decode_are_reported_together(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for name in ("a", "b"):
        for index in range(4):
            write_image(root / name / f"{index}.png", rng.integers(0, 255, (16, 16), np.uint8))
    broken = [
        root / "a" / "1.png",
        root / "a" / "3.png",
        root / "b" / "0.png",
        root / "b" / "2.png",
    ]
    for path in broken:
        corrupt_pixels(path)
    inspect_source({"folder": str(root), "n_test": 2})  # headers and ends pass
    with pytest.raises(SourceError) as raised:
        build_dataset("mine", folder=str(root), n_test=2)
    message = str(raised.value)
    assert message.startswith("4 of ") and message.endswith(" and 1 more")
    assert sum(str(path) in message for path in broken) == 3


def test_links_to_folders_and_files_are_followed_once(tmp_path):
    outside = class_folder(tmp_path / "elsewhere", {"x": 3})
    root = class_folder(tmp_path / "images", {"a": 2, "b": 2})
    os.symlink(outside / "x", root / "a" / "linked folder")
    os.symlink(outside / "x" / "000.png", root / "b" / "linked.png")
    os.symlink(root / "a", root / "a" / "loop")  # a folder that contains itself
    summary = inspect_source({"folder": str(root), "n_test": 2})
    assert summary.n_train + summary.n_test == 2 + 3 + 2 + 1
    os.symlink(tmp_path / "gone.png", root / "b" / "broken.png")
    assert f"{root / 'b' / 'broken.png'} (not an image Pillow reads)" in config_error(
        {"folder": str(root), "n_test": 2}
    )
