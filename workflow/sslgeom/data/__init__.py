"""Datasets: procedurally rendered shapes with known latents, MLP-mixed latent vectors, a
5 000-image MNIST subset, and CIFAR-10, CIFAR-100 and STL-10 downloaded into a cache folder."""

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sslgeom.data.cifar import CIFAR10, CIFAR100, load_cifar
from sslgeom.data.download import resolve_cache_dir
from sslgeom.data.io import Dataset, load_dataset, save_dataset
from sslgeom.data.mnist import make_mnist5k
from sslgeom.data.shapes import make_shapes
from sslgeom.data.stl10 import make_stl10
from sslgeom.data.vectors import make_vectors

__all__ = [
    "DATASET_BUILDERS",
    "DOWNLOADED_DATASETS",
    "Dataset",
    "build_dataset",
    "dataset_kind",
    "load_dataset",
    "model_input_shape",
    "save_dataset",
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
    ``vectors_<suffix>`` names further ``vectors`` datasets.

    Downloaded datasets keep their archives in ``cache_dir`` (see
    :func:`sslgeom.data.download.resolve_cache_dir` for the default); the others ignore it.
    """
    try:
        builder = DATASET_BUILDERS[dataset_kind(name)]
    except KeyError:
        known = ", ".join(sorted(DATASET_BUILDERS))
        raise ValueError(f"unknown dataset {name!r}; known datasets: {known}") from None
    if name in DOWNLOADED_DATASETS:
        params["cache_dir"] = resolve_cache_dir(cache_dir)
    return builder(**params)
