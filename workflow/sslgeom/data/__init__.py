"""Datasets: procedurally rendered shapes with known latents, MLP-mixed latent vectors, a
5 000-image MNIST subset, CIFAR-10, CIFAR-100 and STL-10 downloaded into a cache folder, and
datasets of your own read from an image folder or an npz file."""

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sslgeom.data.cifar import CIFAR10, CIFAR100, load_cifar
from sslgeom.data.download import resolve_cache_dir
from sslgeom.data.image_folder import inspect_image_folder, list_image_folder, make_image_folder
from sslgeom.data.io import Dataset, load_dataset, save_dataset
from sslgeom.data.mnist import make_mnist5k
from sslgeom.data.npz_file import inspect_npz_file, make_npz_dataset
from sslgeom.data.shapes import make_shapes
from sslgeom.data.sources import (
    SOURCE_KEYS,
    SourceError,
    SourceSummary,
    source_fingerprint,
    source_key,
)
from sslgeom.data.stl10 import make_stl10
from sslgeom.data.vectors import make_vectors

__all__ = [
    "DATASET_BUILDERS",
    "DOWNLOADED_DATASETS",
    "Dataset",
    "SourceError",
    "build_dataset",
    "dataset_kind",
    "inspect_source",
    "load_dataset",
    "model_input_shape",
    "save_dataset",
    "source_files",
    "source_fingerprint",
    "source_key",
]

DATASET_BUILDERS: dict[str, Callable[..., Dataset]] = {
    "shapes": make_shapes,
    "mnist5k": make_mnist5k,
    "cifar10": partial(load_cifar, CIFAR10),
    "cifar100": partial(load_cifar, CIFAR100),
    "stl10": make_stl10,
    "vectors": make_vectors,
}
# The builders that download an archive and so take a ``cache_dir``.
DOWNLOADED_DATASETS = frozenset({"cifar10", "cifar100", "stl10"})
# Datasets of your own, by the key that names their source: builder, and cheap check.
SOURCE_BUILDERS: dict[str, Callable[..., Dataset]] = {
    "folder": make_image_folder,
    "npz": make_npz_dataset,
}
SOURCE_CHECKS: dict[str, Callable[..., SourceSummary]] = {
    "folder": inspect_image_folder,
    "npz": inspect_npz_file,
}
# Options of image folders only: an npz file's images are used as stored.
FOLDER_OPTIONS = ("image_size", "channels", "background")


def dataset_kind(name: str) -> str:
    """The builder of a dataset name: itself, or ``vectors`` for ``vectors_<suffix>``."""
    return "vectors" if name.startswith("vectors_") else name


# One stored example as a model reads it (channels first), where the config alone fixes it.
FIXED_INPUT_SHAPES = {
    "mnist5k": (3, 32, 32),
    "cifar10": (3, 32, 32),
    "cifar100": (3, 32, 32),
    "stl10": (3, 96, 96),
}


def model_input_shape(name: str, parameters: dict) -> tuple[int, ...] | None:
    """The shape of one of the dataset's inputs as a model reads it (C×H×W images, (D,)
    vectors), from its config ``parameters`` (defaults filled); None where only the built
    dataset tells."""
    kind = dataset_kind(name)
    if kind == "shapes":
        return (3, parameters["size"], parameters["size"])
    if kind == "vectors":
        return (parameters["latent_dim"],)
    return FIXED_INPUT_SHAPES.get(kind)


def build_dataset(name: str, cache_dir: str | Path | None = None, **params: Any) -> Dataset:
    """Build the dataset registered under ``name`` with the builder's keyword ``params``;
    ``vectors_<suffix>`` names further ``vectors`` datasets, and ``params`` with ``folder`` or
    ``npz`` a dataset of your own of any name.

    Downloaded datasets keep their archives in ``cache_dir`` (see
    :func:`sslgeom.data.download.resolve_cache_dir` for the default); the others ignore it.
    """
    if source_key(params) is not None:
        return SOURCE_BUILDERS[_checked_source_key(params)](name=name, **params)
    try:
        builder = DATASET_BUILDERS[dataset_kind(name)]
    except KeyError:
        known = ", ".join(sorted(DATASET_BUILDERS))
        raise ValueError(f"unknown dataset {name!r}; known datasets: {known}") from None
    if name in DOWNLOADED_DATASETS:
        params["cache_dir"] = resolve_cache_dir(cache_dir)
    return builder(**params)


def inspect_source(params: dict) -> SourceSummary:
    """Check a dataset of your own without decoding it (:mod:`sslgeom.data.sources`) and
    return its files and split sizes; SourceError naming the config key and the path."""
    return SOURCE_CHECKS[_checked_source_key(params)](**params)


def _checked_source_key(params: dict) -> str:
    """``folder`` or ``npz``: exactly one, and no folder options with an npz file."""
    keys = [key for key in SOURCE_KEYS if key in params]
    if len(keys) != 1:
        problem = "folder is given too; allowed: one of the two" if keys else "no source"
        raise SourceError(keys[-1] if keys else None, f"{problem} (folder or npz)")
    misplaced = [option for option in FOLDER_OPTIONS if option in params and keys[0] == "npz"]
    if misplaced:
        raise SourceError(
            misplaced[0], "an npz file's images are used as stored; allowed with folder only"
        )
    return keys[0]


def source_files(params: dict) -> tuple[Path, tuple[Path, ...]]:
    """The folder or npz file of a dataset of your own, and its source files: the npz file,
    or the folder's images (listed, not opened)."""
    if "npz" in params:
        path = Path(params["npz"])
        return path.parent, (path,)
    folder = Path(params["folder"])
    return folder, list_image_folder(folder).all_files
