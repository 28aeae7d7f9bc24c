"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html).

Both ship as a ``.tar.gz`` of Python pickles. Each data pickle is a dict whose ``data`` is a
uint8 array of N rows of 3072 values, one image per row in channel-major order (the 1024 red
values, then green, then blue, each 32×32 row-major), and whose labels are the list ``labels``
(CIFAR-10) or ``fine_labels`` (CIFAR-100, the 100 classes). The class names are in a meta
pickle. The splits are the official ones: 50 000 training and 10 000 test images.

URLs, member names and archive MD5s are those of torchvision's ``torchvision/datasets/cifar.py``
(``tgz_md5``), which checks the same archives.
"""

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslgeom.data.archives import read_tar_members
from sslgeom.data.download import RemoteFile, fetch
from sslgeom.data.io import Dataset, first_n

IMAGE_SIZE = 32
CHANNELS = 3


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR variant keeps its images, labels and class names inside its archive."""

    name: str
    remote: RemoteFile
    train_members: tuple[str, ...]
    test_members: tuple[str, ...]
    meta_member: str
    label_key: str
    class_names_key: str


CIFAR10 = CifarLayout(
    name="cifar10",
    remote=RemoteFile(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        filename="cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a",
    ),
    train_members=tuple(f"cifar-10-batches-py/data_batch_{index}" for index in range(1, 6)),
    test_members=("cifar-10-batches-py/test_batch",),
    meta_member="cifar-10-batches-py/batches.meta",
    label_key="labels",
    class_names_key="label_names",
)

CIFAR100 = CifarLayout(
    name="cifar100",
    remote=RemoteFile(
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        filename="cifar-100-python.tar.gz",
        md5="eb9058c3a382ffc7106e4002c42a8d85",
    ),
    train_members=("cifar-100-python/train",),
    test_members=("cifar-100-python/test",),
    meta_member="cifar-100-python/meta",
    label_key="fine_labels",
    class_names_key="fine_label_names",
)


def load_cifar(layout: CifarLayout, n_train: int, n_test: int, cache_dir: str | Path) -> Dataset:
    """The first ``n_train`` / ``n_test`` images of the official splits of a CIFAR variant.

    Fetches (or finds) the variant's archive in ``cache_dir`` and parses it in memory.
    """
    archive = fetch(layout.remote, cache_dir)
    members = read_tar_members(
        archive, {*layout.train_members, *layout.test_members, layout.meta_member}
    )
    # Unpickling runs code from the file; fetch has checked that it is the official archive.
    unpickled = {
        name: pickle.loads(content, encoding="latin1") for name, content in members.items()
    }
    train_images, train_labels = _images_and_labels(
        [unpickled[name] for name in layout.train_members], layout.label_key
    )
    test_images, test_labels = _images_and_labels(
        [unpickled[name] for name in layout.test_members], layout.label_key
    )
    return Dataset(
        name=layout.name,
        train_images=first_n(train_images, n_train, "n_train", layout.name),
        train_labels=first_n(train_labels, n_train, "n_train", layout.name),
        test_images=first_n(test_images, n_test, "n_test", layout.name),
        test_labels=first_n(test_labels, n_test, "n_test", layout.name),
        train_latents=None,
        test_latents=None,
        class_names=tuple(unpickled[layout.meta_member][layout.class_names_key]),
    )


def _images_and_labels(batches: list[dict], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate pickled batches into uint8 N×32×32×3 images and int64 labels."""
    rows = np.concatenate([np.asarray(batch["data"], dtype=np.uint8) for batch in batches])
    labels = np.concatenate([np.asarray(batch[label_key], dtype=np.int64) for batch in batches])
    images = rows.reshape(-1, CHANNELS, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels
