"""Reading chosen members of a downloaded .tar.gz archive without unpacking it to disk."""

import tarfile
from pathlib import Path


def read_tar_members(archive: Path, names: set[str]) -> dict[str, bytes]:
    """The content of each member named in ``names``, in one pass over the compressed stream.

    Stops reading once every wanted member is found, so large members after them (STL-10's
    unlabeled images) are decompressed only when they come first. Raises ``ValueError`` naming the
    archive when a member is missing or the archive is unreadable.
    """
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in names and member.isfile():
                    found[member.name] = tar.extractfile(member).read()
                    if len(found) == len(names):
                        break
    except (OSError, EOFError, tarfile.TarError) as err:
        raise ValueError(f"archive {archive} is unreadable ({err}); delete it and rerun") from err
    missing = sorted(names - set(found))
    if missing:
        raise ValueError(
            f"archive {archive} lacks {', '.join(missing)}; it is not the expected dataset "
            "archive: delete it and rerun"
        )
    return found
