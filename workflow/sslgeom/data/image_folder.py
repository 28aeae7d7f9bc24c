"""Image folders: one subfolder per class, holding PNG or JPEG images (or any format Pillow
reads).

Layouts: ``folder/<class>/<image>``, split by :func:`sslgeom.data.sources.split_indices`, or
``folder/train/<class>/<image>`` and ``folder/test/<class>/<image>``, a split given by the
folder. Images may sit deeper inside their class folder; names starting with ``.`` (hidden
files and folders) are skipped, and so are files directly inside ``folder``. Classes are
numbered in the sorted order of their folder names (those of ``train/`` for a given split).

Images are stored as grayscale (1 channel) or RGB (3 channels): as configured, else grayscale
when every image is. Each is first turned the way its EXIF orientation says (as a viewer shows
it); 16-bit grey levels are rescaled from 0–65535 to 0–255; transparent pixels are composited
onto a grey ``background`` (white by default). With ``image_size`` each is scaled so that its
shorter side has that size and centre-cropped to a square (bicubic, antialiased: Pillow's
``ImageOps.fit``); without it, all images must already have one size (as shown, after turning).

Links are followed, to files and to folders alike (a folder reached twice is read once).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from sslgeom.data.io import Dataset
from sslgeom.data.sources import (
    GIVEN_SPLITS,
    SourceError,
    SourceSummary,
    check_split_options,
    shuffled_given_split,
    split_indices,
)

# Pillow modes of 16-bit grey levels, rescaled to 8 bits (as is "I", which Pillow gives some
# 16-bit PNGs: the only 32-bit integer mode accepted).
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
# Pillow modes without colour: stored as one channel unless channels says otherwise.
GRAYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I"}) | SIXTEEN_BIT_MODES
# The EXIF tag of the orientation, and its values that turn an image by 90° one way or the other.
EXIF_ORIENTATION = 0x0112
QUARTER_TURNS = frozenset({5, 6, 7, 8})
# The bytes that end a complete file of these formats (the PNG IEND chunk, the JPEG EOI marker),
# looked for among its last TRAILER_BYTES (some writers append data after them).
END_MARKERS = {"PNG": b"IEND\xaeB`\x82", "JPEG": b"\xff\xd9"}
TRAILER_BYTES = 65536
# Grey level that transparent pixels are composited onto, unless a dataset sets background.
DEFAULT_BACKGROUND = 255
# How many offending files an error message names.
NAMED_FILES = 3


@dataclass(frozen=True)
class FolderListing:
    """The classes of an image folder and its files with their labels: for the split that it
    gives (``train``, ``test``) or, when it gives none, for ``all``."""

    class_names: tuple[str, ...]
    files: dict[str, tuple[Path, ...]]
    labels: dict[str, np.ndarray]

    @property
    def given_split(self) -> bool:
        return set(self.files) == set(GIVEN_SPLITS)

    @property
    def all_files(self) -> tuple[Path, ...]:
        return tuple(path for files in self.files.values() for path in files)


def list_image_folder(folder: str | Path) -> FolderListing:
    """The classes and files of ``folder``; SourceError naming the path when it is missing or
    empty, has fewer than two classes or an empty class folder."""
    root = Path(folder)
    if not root.is_dir():
        raise SourceError(
            "folder", f"{root} {'is not a folder' if root.exists() else 'does not exist'}"
        )
    subfolders = _visible_subfolders(root)
    if {path.name for path in subfolders} == set(GIVEN_SPLITS):
        class_names = _class_names(root / "train")
        unknown = [name for name in _class_names(root / "test") if name not in class_names]
        if unknown:
            raise SourceError(
                "folder", f"{root / 'test' / unknown[0]} is a class that {root / 'train'} lacks"
            )
        split_roots = {split: root / split for split in GIVEN_SPLITS}
    else:
        class_names = _class_names(root)
        split_roots = {"all": root}
    files, labels = {}, {}
    for split, split_root in split_roots.items():
        by_class = [_visible_files(split_root / name) for name in class_names]
        files[split] = tuple(path for class_files in by_class for path in class_files)
        labels[split] = np.repeat(np.arange(len(class_names)), [len(f) for f in by_class])
    return FolderListing(tuple(class_names), files, labels)


def inspect_image_folder(
    folder: str | Path,
    image_size: int | None = None,
    channels: int | None = None,
    background: int = DEFAULT_BACKGROUND,
    n_test: int | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> SourceSummary:
    """Check ``folder`` without decoding its images (listing, headers and the ends of PNG and
    JPEG files) and return its files and split sizes; SourceError naming the path of the first
    problem, or the first few files that cannot be read and their count."""
    listing, _, train, test = _checked(folder, image_size, n_test, test_fraction, seed)
    return SourceSummary(listing.all_files, len(train), len(test))


def make_image_folder(
    name: str,
    folder: str | Path,
    image_size: int | None = None,
    channels: int | None = None,
    background: int = DEFAULT_BACKGROUND,
    n_test: int | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> Dataset:
    """The images of ``folder`` (uint8 N×H×W×C), split and shuffled with ``seed``; every image
    is decoded before a SourceError names those that fail (the first few and their count)."""
    listing, modes, train, test = _checked(folder, image_size, n_test, test_fraction, seed)
    channels = channels or (1 if modes <= GRAYSCALE_MODES else 3)
    paths, arrays = [], {}
    for split, order in (("train", train), ("test", test)):
        files, labels = _split_files(listing, split)
        paths.extend(files[index] for index in order)
        arrays[f"{split}_labels"] = labels[order]
    images = _read_images(paths, image_size, channels, background)
    arrays["train_images"], arrays["test_images"] = np.split(images, [len(train)])
    return Dataset(
        name=name, train_latents=None, test_latents=None, class_names=listing.class_names, **arrays
    )


def _checked(
    folder: str | Path,
    image_size: int | None,
    n_test: int | None,
    test_fraction: float | None,
    seed: int,
) -> tuple[FolderListing, set[str], np.ndarray, np.ndarray]:
    """The folder's listing, the Pillow modes of its images and the (train, test) indices of
    its split (:func:`_split_files`), after every check."""
    listing = list_image_folder(folder)
    modes = _check_headers(listing.all_files, image_size)
    check_split_options(listing.given_split, n_test, test_fraction)
    return listing, modes, *_split(listing, n_test, test_fraction, seed)


def _visible_subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_names(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise SourceError("folder", f"{folder} does not exist")
    names = [path.name for path in _visible_subfolders(folder)]
    if not names:
        has_files = any(not path.name.startswith(".") for path in folder.iterdir())
        raise SourceError(
            "folder",
            f"{folder} has no class subfolders; put each class's images in a subfolder of its own"
            if has_files
            else f"{folder} is empty",
        )
    if len(names) < 2:
        raise SourceError(
            "folder", f"{folder} has a single class ({names[0]}); a dataset needs at least two"
        )
    return names


def _visible_files(folder: Path) -> list[Path]:
    """The files under ``folder`` (at any depth, through links) whose path below it has no
    hidden part; a broken link is listed, to be named as unreadable."""
    files, seen = [], set()
    for directory, subfolders, names in os.walk(folder, followlinks=True):
        if os.path.realpath(directory) in seen:  # a link back to a folder already read
            subfolders.clear()
            continue
        seen.add(os.path.realpath(directory))
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        files.extend(Path(directory, name) for name in names if not name.startswith("."))
    if not files:
        raise SourceError("folder", f"{folder} holds no images")
    return sorted(files)


def _check_headers(files: tuple[Path, ...], image_size: int | None) -> set[str]:
    """Open every image without decoding it; return the set of their Pillow modes.

    SourceError naming the first files that Pillow cannot read, that end early or whose pixels
    have no defined range, or two images of different sizes (as shown, after their EXIF
    orientation) when there is no ``image_size`` to bring them to one.
    """
    sizes, modes, problems = {}, set(), []
    for path in files:
        try:
            with Image.open(path) as image:
                problem = _header_problem(path, image)
                sizes.setdefault(_shown_size(image), path)
                modes.add(image.mode)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            problem = "not an image Pillow reads"
        if problem:
            problems.append((path, problem))
    if problems:
        raise _unreadable_error(problems, len(files))
    if image_size is None and len(sizes) > 1:
        (size_a, path_a), (size_b, path_b) = list(sizes.items())[:2]
        raise SourceError(
            "folder",
            f"images of different sizes ({path_a} is {size_a[0]}×{size_a[1]}, {path_b} "
            f"{size_b[0]}×{size_b[1]}); set image_size to resize them to one",
        )
    return modes


def _header_problem(path: Path, image: Image.Image) -> str | None:
    """Why an opened image cannot be used, from its header and the end of its file: pixels
    without a defined range, or a PNG or JPEG file cut short; else None."""
    if image.mode == "F" or (image.mode == "I" and image.format != "PNG"):
        return f"{image.mode} pixels (32-bit) have no defined range; save it as 8 or 16 bits"
    marker = END_MARKERS.get(image.format)
    if marker is None:
        return None
    with open(path, "rb") as file:
        file.seek(max(0, os.fstat(file.fileno()).st_size - TRAILER_BYTES))
        if marker not in file.read():
            return f"cut short: no {image.format} end marker"
    return None


def _shown_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) as a viewer shows the image, turned by its EXIF orientation. A PNG's
    EXIF is read only where it precedes the pixels: reading it elsewhere decodes the image."""
    if image.format == "PNG" and "exif" not in image.info:
        return image.size
    turned = image.getexif().get(EXIF_ORIENTATION) in QUARTER_TURNS
    return image.size[::-1] if turned else image.size


def _unreadable_error(problems: list[tuple[Path, str]], n_files: int) -> SourceError:
    """One SourceError naming the first few files that cannot be read, why, and their count."""
    named = ", ".join(f"{path} ({why})" for path, why in problems[:NAMED_FILES])
    more = f" and {len(problems) - NAMED_FILES} more" if len(problems) > NAMED_FILES else ""
    return SourceError(
        "folder", f"{len(problems)} of {n_files} files cannot be read as images: {named}{more}"
    )


def _split(
    listing: FolderListing, n_test: int | None, test_fraction: float | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into the files of each split (:func:`_split_files`)."""
    if listing.given_split:
        return shuffled_given_split(len(listing.files["train"]), len(listing.files["test"]), seed)
    return split_indices(listing.labels["all"], n_test, test_fraction, seed)


def _split_files(listing: FolderListing, split: str) -> tuple[tuple[Path, ...], np.ndarray]:
    """The files and labels that a split's indices index: its own, or all of them."""
    source = split if listing.given_split else "all"
    return listing.files[source], listing.labels[source]


def _read_images(
    files: list[Path], image_size: int | None, channels: int, background: int
) -> np.ndarray:
    """The images of ``files`` stacked (uint8 N×H×W×channels); SourceError naming those that
    fail to decode, all of them counted."""
    images, problems = [], []
    for path in files:
        try:
            images.append(_read_image(path, image_size, channels, background))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            problems.append((path, f"{type(err).__name__}: {err}"))
    if problems:
        raise _unreadable_error(problems, len(files))
    return np.stack(images)


def _read_image(path: Path, image_size: int | None, channels: int, background: int) -> np.ndarray:
    """One image as uint8 H×W×channels, resized to image_size × image_size where given."""
    with Image.open(path) as image:
        shown = ImageOps.exif_transpose(image)
        converted = _eight_bit_opaque(shown, background).convert("L" if channels == 1 else "RGB")
    if image_size is not None:
        converted = ImageOps.fit(converted, (image_size, image_size), Image.Resampling.BICUBIC)
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels[..., None] if channels == 1 else pixels


def _eight_bit_opaque(image: Image.Image, background: int) -> Image.Image:
    """``image`` with 16-bit grey levels rescaled to 8 bits (rounded) and transparent pixels
    composited onto the grey level ``background``; other modes as they are."""
    if image.mode in SIXTEEN_BIT_MODES or image.mode == "I":
        levels = np.asarray(image).astype(np.int64).clip(0, 65535)
        return Image.fromarray(((levels * 255 + 32767) // 65535).astype(np.uint8))
    if "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info:
        colour = image.convert("RGBA")
        backdrop = Image.new("RGBA", colour.size, (background, background, background, 255))
        return Image.alpha_composite(backdrop, colour)
    return image
