"""The check of an image folder before any job runs, against its parts, on files as users have
them.

    python benchmarks/image_folder_check.py [--files 10000] [--rounds 3]

Writes a folder of ``--files`` images in two classes (28×28 grey PNGs, 64×48 RGB JPEGs with an
EXIF orientation, RGBA and palette PNGs with transparency, 16-bit grey PNGs; a fifth each) into
a temporary folder, then times in alternating rounds: listing the folder, opening every image
(Pillow reads its header, no pixels) and the whole check (listing, headers, EXIF orientation,
the end of every PNG and JPEG file). Prints the best round of each, per 10,000 files, and once
the decoding that the dataset job does. The check must stay under 1 s per 10,000 files.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from timing import alternate, timed  # noqa: E402

from sslgeom.data.image_folder import (  # noqa: E402
    inspect_image_folder,
    list_image_folder,
    make_image_folder,
)

EXIF_ORIENTATION = 0x0112


def sample_images(rng: np.random.Generator) -> list[tuple[str, Image.Image, dict]]:
    """(suffix, image, save options) of each kind of file in the folder."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    rgba = rng.integers(0, 256, (28, 28, 4), dtype=np.uint8)
    grey = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    return [
        (".png", Image.fromarray(grey), {}),
        (
            ".jpg",
            Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)),
            {"exif": exif},
        ),
        (".png", Image.fromarray(rgba), {}),
        (".png", Image.fromarray(grey).convert("P"), {"transparency": 0}),
        (".png", Image.fromarray(grey.astype(np.uint16) * 257), {}),
    ]


def write_folder(root: Path, n_files: int) -> None:
    samples = sample_images(np.random.default_rng(0))
    for index in range(n_files):
        suffix, image, options = samples[index % len(samples)]
        folder = root / ("even" if index % 2 == 0 else "odd")
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"image {index:05d}{suffix}", **options)


def open_every_header(root: Path) -> None:
    for path in list_image_folder(root).all_files:
        with Image.open(path) as image:
            image.mode  # noqa: B018 (the header is read on open)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_folder(root, args.files)
        variants = {
            "listing": lambda _: timed(lambda: list_image_folder(root))[1],
            "listing + headers": lambda _: timed(lambda: open_every_header(root))[1],
            "whole check": lambda _: timed(
                lambda: inspect_image_folder(root, image_size=28, test_fraction=0.2)
            )[1],
        }
        seconds = {name: min(times) for name, times in alternate(variants, args.rounds).items()}
        decoding = timed(lambda: make_image_folder("x", root, image_size=28, test_fraction=0.2))[1]
    per_10k = 10_000 / args.files
    print(f"{args.files} files, best of {args.rounds} rounds, seconds per 10,000 files:")
    for name, value in seconds.items():
        ratio = value / seconds["listing + headers"]
        print(f"  {name:18s} {value * per_10k:6.3f} s  ({ratio:.2f}× listing + headers)")
    print(f"  decoding every image (the dataset job, once): {decoding * per_10k:.2f} s")


if __name__ == "__main__":
    main()
