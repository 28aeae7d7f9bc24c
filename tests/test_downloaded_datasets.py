"""CIFAR-10, CIFAR-100 and STL-10 through the real download, verify and parse code.

Each test writes a tiny archive in the dataset's original on-disk format (a .tar.gz of pickles,
or of raw binary files), serves it from a file:// URL or a local HTTP server, and loads it with
the archive's own MD5 in place of the official one.
"""

import dataclasses
import functools
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from sslgeom.data import DATASET_BUILDERS, build_dataset
from sslgeom.data.cifar import CIFAR10, CIFAR100, load_cifar
from sslgeom.data.download import (
    CACHE_ENV_VAR,
    ChecksumError,
    RemoteFile,
    fetch,
    resolve_cache_dir,
)
from sslgeom.data.stl10 import CLASS_NAMES as STL10_CLASSES
from sslgeom.data.stl10 import STL10_ARCHIVE, make_stl10

RNG = np.random.default_rng(0)


# Fixture archives in the original formats


def write_tar_gz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def cifar_rows(images: np.ndarray) -> np.ndarray:
    """NHWC images → CIFAR rows: 1024 red values (row-major), then green, then blue."""
    rows = np.zeros((len(images), 3072), dtype=np.uint8)
    for n, image in enumerate(images):
        for channel in range(3):
            for y in range(32):
                for x in range(32):
                    rows[n, channel * 1024 + y * 32 + x] = image[y, x, channel]
    return rows


def cifar_batch(images: np.ndarray, labels: np.ndarray, label_key: str) -> bytes:
    batch = {"batch_label": "fixture", label_key: labels.tolist(), "data": cifar_rows(images)}
    return pickle.dumps(batch, protocol=2)


def random_images(n: int, size: int) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@dataclasses.dataclass
class Fixture:
    """An archive served at ``url``, and the images and labels it holds per split."""

    remote: RemoteFile
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]


def serve(archive: Path, url: str | None = None) -> RemoteFile:
    return RemoteFile(url=url or archive.as_uri(), filename=archive.name, md5=md5(archive))


def cifar10_fixture(folder: Path, url: str | None = None) -> Fixture:
    """Five training batches of 2 images and a test batch of 3, with a marked pixel."""
    train_images, test_images = random_images(10, 32), random_images(3, 32)
    train_images[0] = 0
    train_images[0, 1, 2, 0] = 255  # red at row 1, column 2: byte 0·1024 + 1·32 + 2 of its row
    train_labels, test_labels = np.arange(10) % 10, np.array([9, 0, 4])
    names = [f"class{index}" for index in range(10)]
    members = {
        f"cifar-10-batches-py/data_batch_{b + 1}": cifar_batch(
            train_images[2 * b : 2 * b + 2], train_labels[2 * b : 2 * b + 2], "labels"
        )
        for b in range(5)
    }
    members["cifar-10-batches-py/test_batch"] = cifar_batch(test_images, test_labels, "labels")
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({"label_names": names})
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    archive = folder / "cifar-10-python.tar.gz"
    write_tar_gz(archive, members)
    return Fixture(
        serve(archive, url), train_images, train_labels, test_images, test_labels, tuple(names)
    )


def cifar100_fixture(folder: Path) -> Fixture:
    train_images, test_images = random_images(6, 32), random_images(4, 32)
    train_labels, test_labels = np.array([0, 99, 5, 42, 7, 3]), np.array([1, 2, 98, 0])
    names = [f"fine{index}" for index in range(100)]

    def split(images, labels):
        batch = {"fine_labels": labels.tolist(), "coarse_labels": (labels // 5).tolist()}
        return pickle.dumps({**batch, "data": cifar_rows(images)}, protocol=2)

    archive = folder / "cifar-100-python.tar.gz"
    write_tar_gz(
        archive,
        {
            "cifar-100-python/meta": pickle.dumps(
                {"fine_label_names": names, "coarse_label_names": ["c"] * 20}
            ),
            "cifar-100-python/test": split(test_images, test_labels),
            "cifar-100-python/train": split(train_images, train_labels),
        },
    )
    return Fixture(
        serve(archive), train_images, train_labels, test_images, test_labels, tuple(names)
    )


def stl10_bytes(images: np.ndarray) -> bytes:
    """NHWC images → STL-10 bytes: per image, each channel column-major (x outer, y inner)."""
    out = bytearray()
    for image in images:
        for channel in range(3):
            for x in range(96):
                out += bytes(image[:, x, channel])  # one column: y = 0 … 95
    return bytes(out)


def stl10_fixture(folder: Path, url: str | None = None) -> Fixture:
    train_images, test_images = random_images(3, 96), random_images(2, 96)
    test_images[1] = 0
    test_images[1, 1, 2, 0] = 255  # red at row 1, column 2: byte 0·9216 + 2·96 + 1 of its image
    train_labels, test_labels = np.array([0, 9, 4]), np.array([3, 7])
    archive = folder / "stl10_binary.tar.gz"
    write_tar_gz(
        archive,
        {
            "stl10_binary/class_names.txt": "\n".join(STL10_CLASSES).encode(),
            "stl10_binary/fold_indices.txt": b"0 1 2\n",
            "stl10_binary/test_X.bin": stl10_bytes(test_images),
            "stl10_binary/test_y.bin": (test_labels + 1).astype(np.uint8).tobytes(),
            "stl10_binary/train_X.bin": stl10_bytes(train_images),
            "stl10_binary/train_y.bin": (train_labels + 1).astype(np.uint8).tobytes(),
            "stl10_binary/unlabeled_X.bin": stl10_bytes(random_images(2, 96)),
        },
    )
    return Fixture(
        serve(archive, url), train_images, train_labels, test_images, test_labels, STL10_CLASSES
    )


@pytest.fixture
def http_folder(tmp_path):
    """A folder served by a local HTTP server; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def assert_loaded(dataset, fixture: Fixture, n_train: int, n_test: int) -> None:
    np.testing.assert_array_equal(dataset.train_images, fixture.train_images[:n_train])
    np.testing.assert_array_equal(dataset.train_labels, fixture.train_labels[:n_train])
    np.testing.assert_array_equal(dataset.test_images, fixture.test_images[:n_test])
    np.testing.assert_array_equal(dataset.test_labels, fixture.test_labels[:n_test])
    assert dataset.train_images.dtype == np.uint8 and dataset.train_labels.dtype == np.int64
    assert dataset.class_names == fixture.class_names
    assert dataset.train_latents is None and dataset.test_latents is None


def cache_contents(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.iterdir()) if cache.exists() else []


# Parsing the original formats


def test_cifar10_from_a_local_http_server(http_folder, tmp_path):
    folder, base_url = http_folder
    fixture = cifar10_fixture(folder, url=f"{base_url}/cifar-10-python.tar.gz")
    cache = tmp_path / "cache"
    dataset = load_cifar(
        dataclasses.replace(CIFAR10, remote=fixture.remote), n_train=10, n_test=3, cache_dir=cache
    )
    assert dataset.name == "cifar10" and dataset.train_images.shape == (10, 32, 32, 3)
    assert_loaded(dataset, fixture, 10, 3)
    assert dataset.train_images[0, 1, 2].tolist() == [255, 0, 0]
    assert dataset.train_images[0].sum() == 255
    assert cache_contents(cache) == ["cifar-10-python.tar.gz"]


def test_cifar100_fine_labels_and_first_n_images(tmp_path):
    fixture = cifar100_fixture(tmp_path)
    layout = dataclasses.replace(CIFAR100, remote=fixture.remote)
    dataset = load_cifar(layout, n_train=4, n_test=4, cache_dir=tmp_path / "cache")
    assert dataset.name == "cifar100" and dataset.num_classes == 100
    assert_loaded(dataset, fixture, 4, 4)


def test_stl10_column_major_images_and_one_based_labels(http_folder, tmp_path):
    folder, base_url = http_folder
    fixture = stl10_fixture(folder, url=f"{base_url}/stl10_binary.tar.gz")
    dataset = make_stl10(n_train=3, n_test=2, cache_dir=tmp_path / "cache", remote=fixture.remote)
    assert dataset.name == "stl10" and dataset.test_images.shape == (2, 96, 96, 3)
    assert_loaded(dataset, fixture, 3, 2)
    assert dataset.test_images[1, 1, 2].tolist() == [255, 0, 0]
    assert dataset.test_images[1].sum() == 255
    assert dataset.train_labels.tolist() == [0, 9, 4]


def test_asking_for_more_images_than_the_split_has_names_the_key(tmp_path):
    fixture = cifar100_fixture(tmp_path)
    layout = dataclasses.replace(CIFAR100, remote=fixture.remote)
    with pytest.raises(ValueError, match="cifar100: n_train=7 must be between 1 and 6"):
        load_cifar(layout, n_train=7, n_test=4, cache_dir=tmp_path / "cache")


def test_registry_knows_the_downloaded_datasets():
    assert {"cifar10", "cifar100", "stl10"} <= set(DATASET_BUILDERS)
    assert CIFAR10.remote.md5 == "c58f30108f718f92721af3b95e74349a"
    assert CIFAR100.remote.md5 == "eb9058c3a382ffc7106e4002c42a8d85"
    assert STL10_ARCHIVE.md5 == "91f7769df0f17e558f3565bffb0c7dfb"


# Download, verify, cache


def test_checksum_mismatch_is_rejected_and_nothing_is_cached(tmp_path):
    fixture = cifar10_fixture(tmp_path)
    wrong = dataclasses.replace(fixture.remote, md5="0" * 32)
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError) as excinfo:
        fetch(wrong, cache)
    message = str(excinfo.value)
    assert "cifar-10-python.tar.gz" in message and "expected " + "0" * 32 in message
    assert "Rerun to retry" in message
    assert cache_contents(cache) == []


def test_a_corrupt_cached_archive_is_rejected_naming_the_file(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cifar-10-python.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(ChecksumError, match="delete it and rerun") as excinfo:
        build_dataset("cifar10", cache_dir=cache, n_train=10, n_test=3)
    assert str(cache / "cifar-10-python.tar.gz") in str(excinfo.value)


def test_a_cached_archive_is_verified_and_not_downloaded_again(tmp_path):
    fixture = cifar10_fixture(tmp_path)
    cache = tmp_path / "cache"
    first = fetch(fixture.remote, cache)
    gone = dataclasses.replace(fixture.remote, url=(tmp_path / "missing.tar.gz").as_uri())
    assert fetch(gone, cache) == first


def test_a_truncated_part_file_is_never_used(tmp_path):
    fixture = cifar10_fixture(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    content = (tmp_path / "cifar-10-python.tar.gz").read_bytes()
    stale_part = cache / "cifar-10-python.tar.gz.x1y2z3.part"  # left by a killed download
    stale_part.write_bytes(content[: len(content) // 2])
    path = fetch(fixture.remote, cache)
    assert path == cache / "cifar-10-python.tar.gz" and path.read_bytes() == content
    assert stale_part.read_bytes() == content[: len(content) // 2]


def test_an_interrupted_download_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    fixture = cifar10_fixture(tmp_path)
    cache = tmp_path / "cache"

    def interrupted_copy(url, file):
        file.write(b"first half")
        raise ConnectionResetError("connection lost")

    monkeypatch.setattr("sslgeom.data.download._copy_url_to", interrupted_copy)
    with pytest.raises(ConnectionResetError):
        fetch(fixture.remote, cache)
    assert cache_contents(cache) == []
    monkeypatch.undo()
    assert md5(fetch(fixture.remote, cache)) == fixture.remote.md5


def test_a_truncated_http_response_is_rejected(http_folder, tmp_path):
    folder, base_url = http_folder
    fixture = cifar10_fixture(tmp_path)
    content = (tmp_path / "cifar-10-python.tar.gz").read_bytes()
    (folder / "cifar-10-python.tar.gz").write_bytes(content[:100])
    remote = dataclasses.replace(fixture.remote, url=f"{base_url}/cifar-10-python.tar.gz")
    with pytest.raises(ChecksumError, match="discarded"):
        fetch(remote, tmp_path / "cache")
    assert cache_contents(tmp_path / "cache") == []


def test_cache_dir_comes_from_the_config_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, "/env/cache")
    assert resolve_cache_dir("/configured") == Path("/configured")
    assert resolve_cache_dir(None) == Path("/env/cache")
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert resolve_cache_dir(None) == Path.home() / ".cache" / "sslgeom"
