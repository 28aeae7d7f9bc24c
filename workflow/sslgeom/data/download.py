"""Download a dataset archive once into a cache folder, verified against its published MD5.

:func:`fetch` streams the archive into a ``.part`` file beside its final name, checks the MD5
while writing, and renames it into place only when the checksum matches. So the cache never
holds a partial or wrong archive under the final name: a download that is interrupted leaves at
most a ``.part`` file, which is never read (the next fetch starts over), and one whose checksum
does not match is deleted. An archive already in the cache is checked again before every use.

A cluster node without internet can use an archive downloaded elsewhere: copy it into the cache
folder under its official file name.
"""

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CACHE_ENV_VAR = "SSLGEOM_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/sslgeom")
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: where from, the name it takes in the cache, and its MD5."""

    url: str
    filename: str
    md5: str


class ChecksumError(ValueError):
    """A downloaded or cached file whose MD5 is not the published one."""


def resolve_cache_dir(configured: str | Path | None) -> Path:
    """The cache folder: ``configured`` if given, else ``$SSLGEOM_CACHE_DIR``, else
    ``~/.cache/sslgeom``."""
    chosen = configured or os.environ.get(CACHE_ENV_VAR) or DEFAULT_CACHE_DIR
    return Path(chosen).expanduser()


def fetch(remote: RemoteFile, cache_dir: str | Path) -> Path:
    """The path of ``remote`` in ``cache_dir``, downloading it first if it is not there.

    Raises :class:`ChecksumError`, naming the file and what to do, when the cached or the
    freshly downloaded file does not have the published MD5.
    """
    path = Path(cache_dir) / remote.filename
    if path.is_file():
        found = md5_of_file(path)
        if found != remote.md5:
            raise ChecksumError(
                f"cached file {path} has MD5 {found}, expected {remote.md5} (from "
                f"{remote.url}); it is corrupt or a different version: delete it and rerun "
                "to download it again"
            )
        return path
    print(f"downloading {remote.url} to {path}", flush=True)
    _download_verified(remote, path)
    return path


def md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_verified(remote: RemoteFile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique .part name: two processes fetching the same file never write into one another's.
    descriptor, part_name = tempfile.mkstemp(
        dir=path.parent, prefix=f"{remote.filename}.", suffix=".part"
    )
    part = Path(part_name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            found = _copy_url_to(remote.url, file)
        if found != remote.md5:
            raise ChecksumError(
                f"download of {remote.filename} from {remote.url} has MD5 {found}, expected "
                f"{remote.md5}; the download was discarded, nothing was kept in {path.parent}. "
                f"Rerun to retry, or download it by hand and place it at {path}"
            )
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _copy_url_to(url: str, file: BinaryIO) -> str:
    """Write the content at ``url`` (http, https or file) to ``file``; return its MD5."""
    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        for block in iter(lambda: response.read(CHUNK_BYTES), b""):
            digest.update(block)
            file.write(block)
    return digest.hexdigest()
