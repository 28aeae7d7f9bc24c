"""Datasets: procedurally rendered shapes with known latents, and a 5 000-image MNIST subset."""

from collections.abc import Callable
from typing import Any

from sslgeom.data.io import Dataset, load_dataset, save_dataset
from sslgeom.data.mnist import make_mnist5k
from sslgeom.data.shapes import make_shapes

__all__ = ["DATASET_BUILDERS", "Dataset", "build_dataset", "load_dataset", "save_dataset"]

DATASET_BUILDERS: dict[str, Callable[..., Dataset]] = {
    "shapes": make_shapes,
    "mnist5k": make_mnist5k,
}


def build_dataset(name: str, **params: Any) -> Dataset:
    """Build the dataset registered under ``name`` with the builder's keyword ``params``."""
    try:
        builder = DATASET_BUILDERS[name]
    except KeyError:
        known = ", ".join(sorted(DATASET_BUILDERS))
        raise ValueError(f"unknown dataset {name!r}; known datasets: {known}") from None
    return builder(**params)
