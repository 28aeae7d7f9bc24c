"""Image folders: one subfolder per class, holding PNG or JPEG images (or any format Pillow
reads).

Layouts: ``folder/<class>/<image>``, split by :func:`sslgeom.data.sources.split_indices`, or
``folder/train/<class>/<image>`` and ``folder/test/<class>/<image>``, a split given by the
folder. Images may sit deeper inside their class folder; names starting with ``.`` (hidden
files and folders) are skipped, and so are files directly inside ``folder``. Classes are
numbered in the sorted order of their folder names (those of ``train/`` for a given split).

Images are stored as grayscale (1 channel) or RGB (3 channels): as configured, else grayscale
when every image is. With ``image_size`` each is scaled so that its shorter side has that size
and centre-cropped to a square (bicubic, antialiased: Pillow's ``ImageOps.fit``); without it,
all images must already have one size.
"""

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

# Pillow modes without colour: stored as one channel unless channels says otherwise.
GRAYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
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
    n_test: int | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> SourceSummary:
    """Check ``folder`` without decoding its images (listing and headers) and return its files
    and split sizes; SourceError naming the path of the first problem."""
    listing, _, train, test = _checked(folder, image_size, n_test, test_fraction, seed)
    return SourceSummary(listing.all_files, len(train), len(test))


def make_image_folder(
    name: str,
    folder: str | Path,
    image_size: int | None = None,
    channels: int | None = None,
    n_test: int | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> Dataset:
    """The images of ``folder`` (uint8 N×H×W×C), split and shuffled with ``seed``."""
    listing, modes, train, test = _checked(folder, image_size, n_test, test_fraction, seed)
    channels = channels or (1 if modes <= GRAYSCALE_MODES else 3)
    arrays = {}
    for split, order in (("train", train), ("test", test)):
        files, labels = _split_files(listing, split)
        arrays[f"{split}_images"] = np.stack(
            [_read_image(files[index], image_size, channels) for index in order]
        )
        arrays[f"{split}_labels"] = labels[order]
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
    """The files under ``folder`` (at any depth) whose path below it has no hidden part."""
    if not folder.is_dir():
        return []
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    if not files:
        raise SourceError("folder", f"{folder} holds no images")
    return files


def _check_headers(files: tuple[Path, ...], image_size: int | None) -> set[str]:
    """Open every image without decoding it; return the set of their Pillow modes.

    SourceError naming the first files that Pillow cannot read, or two images of different
    sizes when there is no ``image_size`` to bring them to one.
    """
    sizes, modes, unreadable = {}, set(), []
    for path in files:
        try:
            with Image.open(path) as image:
                sizes.setdefault(image.size, path)
                modes.add(image.mode)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            unreadable.append(path)
    if unreadable:
        named = ", ".join(str(path) for path in unreadable[:NAMED_FILES])
        more = f" and {len(unreadable) - NAMED_FILES} more" if len(unreadable) > NAMED_FILES else ""
        raise SourceError("folder", f"not images that Pillow can read: {named}{more}")
    if image_size is None and len(sizes) > 1:
        (size_a, path_a), (size_b, path_b) = list(sizes.items())[:2]
        raise SourceError(
            "folder",
            f"images of different sizes ({path_a} is {size_a[0]}×{size_a[1]}, {path_b} "
            f"{size_b[0]}×{size_b[1]}); set image_size to resize them to one",
        )
    return modes


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


def _read_image(path: Path, image_size: int | None, channels: int) -> np.ndarray:
    """One image as uint8 H×W×channels, resized to image_size × image_size where given."""
    try:
        with Image.open(path) as image:
            converted = image.convert("L" if channels == 1 else "RGB")
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path} cannot be decoded ({err})") from err
    if image_size is not None:
        converted = ImageOps.fit(converted, (image_size, image_size), Image.Resampling.BICUBIC)
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels[..., None] if channels == 1 else pixels
