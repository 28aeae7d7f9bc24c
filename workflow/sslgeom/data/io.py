"""The in-memory dataset container and its on-disk format.

A saved dataset is an ``.npz`` file of arrays plus a sidecar ``.json`` (same path, suffix
``.json``) holding the metadata and the sha256 of the ``.npz``. Both files are written atomically,
so an interrupted run never leaves a half-written file under the final name.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sslgeom.io.artifacts import load_npz, save_npz_atomically, write_atomically

REQUIRED_ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")
LATENT_ARRAYS = ("train_latents", "test_latents")


# eq=False: element-wise array comparison makes the generated __eq__ and __hash__ unusable.
@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test inputs with integer labels and, when known, latents.

    The inputs are images (uint8 N×H×W×C) or vectors (float32 N×D). ``generator`` describes
    the process that generated the data from its latents where a view sampler can rerun it
    (:mod:`sslgeom.training.views`): a JSON-ready mapping with a ``kind``, or empty.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    train_latents: np.ndarray | None
    test_latents: np.ndarray | None
    latent_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    generator: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            images = getattr(self, f"{split}_images")
            labels = getattr(self, f"{split}_labels")
            latents = getattr(self, f"{split}_latents")
            if not _is_image_stack(images) and not _is_vector_stack(images):
                raise ValueError(
                    f"{split}_images must be uint8 N×H×W×C images or float32 N×D vectors, "
                    f"got {images.dtype} {images.shape}"
                )
            if labels.shape != (len(images),):
                raise ValueError(
                    f"{split}_labels has shape {labels.shape}, expected ({len(images)},)"
                )
            if latents is not None and latents.shape != (len(images), len(self.latent_names)):
                raise ValueError(
                    f"{split}_latents has shape {latents.shape}, "
                    f"expected ({len(images)}, {len(self.latent_names)})"
                )

    @property
    def is_images(self) -> bool:
        """Whether the inputs are images (else vectors)."""
        return _is_image_stack(self.train_images)

    @property
    def num_classes(self) -> int:
        """The number of classes: len(class_names), or one more than the largest label."""
        if self.class_names:
            return len(self.class_names)
        return int(max(self.train_labels.max(initial=-1), self.test_labels.max(initial=-1))) + 1


def sidecar_path(npz_path: str | Path) -> Path:
    """The metadata JSON that accompanies a saved dataset."""
    return Path(npz_path).with_suffix(".json")


def save_dataset(dataset: Dataset, npz_path: str | Path) -> None:
    """Write ``dataset`` to ``npz_path`` and its metadata to the sidecar JSON, both atomically."""
    npz_path = Path(npz_path)
    arrays = {
        key: getattr(dataset, key)
        for key in REQUIRED_ARRAYS + LATENT_ARRAYS
        if getattr(dataset, key) is not None
    }
    save_npz_atomically(arrays, npz_path)
    metadata = {
        "name": dataset.name,
        "shapes": {key: list(array.shape) for key, array in arrays.items()},
        "num_classes": dataset.num_classes,
        "class_names": list(dataset.class_names),
        "latent_names": list(dataset.latent_names),
        "generator": dataset.generator,
        "sha256": _sha256(npz_path),
    }
    text = json.dumps(metadata, indent=2) + "\n"
    write_atomically(sidecar_path(npz_path), lambda file: file.write(text.encode()))


def load_dataset(npz_path: str | Path) -> Dataset:
    """Read a dataset written by :func:`save_dataset`.

    Raises ``ValueError`` naming the file when it is truncated, corrupt, missing arrays, or does
    not match its sidecar's checksum.
    """
    npz_path = Path(npz_path)
    if not npz_path.is_file():
        raise FileNotFoundError(f"dataset file {npz_path} does not exist")
    metadata = _read_sidecar(npz_path)
    if _sha256(npz_path) != metadata.get("sha256"):
        raise ValueError(_unusable_message(npz_path, "its sha256 does not match the sidecar JSON"))
    arrays = _read_arrays(npz_path)
    return Dataset(
        name=metadata["name"],
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"].astype(np.int64),
        train_latents=arrays.get("train_latents"),
        test_latents=arrays.get("test_latents"),
        latent_names=tuple(metadata["latent_names"]),
        class_names=tuple(metadata["class_names"]),
        generator=metadata.get("generator", {}),
    )


def _is_image_stack(array: np.ndarray) -> bool:
    return array.dtype == np.uint8 and array.ndim == 4


def _is_vector_stack(array: np.ndarray) -> bool:
    return array.dtype == np.float32 and array.ndim == 2


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rebuild_hint(npz_path: Path) -> str:
    return f"delete {npz_path} and {sidecar_path(npz_path)} and rerun to rebuild them"


def _unusable_message(npz_path: Path, reason: str) -> str:
    return f"dataset file {npz_path} is unusable ({reason}); {_rebuild_hint(npz_path)}"


def _read_sidecar(npz_path: Path) -> dict[str, Any]:
    path = sidecar_path(npz_path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(_unusable_message(npz_path, f"cannot read {path}: {err}")) from err


def _read_arrays(npz_path: Path) -> dict[str, np.ndarray]:
    arrays = load_npz(npz_path, _rebuild_hint(npz_path))
    missing = [key for key in REQUIRED_ARRAYS if key not in arrays]
    if missing:
        raise ValueError(_unusable_message(npz_path, f"arrays missing: {', '.join(missing)}"))
    return arrays


def first_n(array: np.ndarray, n: int, key: str, dataset: str) -> np.ndarray:
    """The first ``n`` items of ``array``; ValueError naming ``key`` if there are fewer."""
    if not 1 <= n <= len(array):
        raise ValueError(f"{dataset}: {key}={n} must be between 1 and {len(array)}")
    return array[:n]
