"""Checks of the config's ``datasets`` section: a dataset that is not built in names its source
(else its name is a typo), and the size of each dataset's training and test splits, read on disk
for a dataset of your own.
"""

import difflib
import re

from sslgeom.config.messages import error_at
from sslgeom.data import SourceError, dataset_kind, inspect_source, source_key
from sslgeom.data.mnist import MNIST5K_IMAGES


def check_own_datasets_name_a_source(config: dict, schema: dict) -> None:
    """A dataset that is not built in must give its source: else its name is a typo."""
    datasets = config.get("datasets")
    if not isinstance(datasets, dict):
        return
    built_in = schema["properties"]["datasets"]
    patterns = list(built_in["patternProperties"])
    for name, parameters in datasets.items():
        if name in built_in["properties"] or any(re.match(p, str(name)) for p in patterns):
            continue
        if isinstance(parameters, dict) and source_key(parameters) is not None:
            continue
        known = sorted(built_in["properties"]) + [p.strip("^$") for p in patterns]
        # vectors(_[A-Za-z0-9]+)? → vectors: the name a typo is closest to
        plain = [re.sub(r"\(.*\)\?$", "", name) for name in known]
        guesses = difflib.get_close_matches(str(name), plain, n=1)
        hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
        raise error_at(
            ("datasets", name),
            f"unknown dataset {name!r}{hint}; built in: {', '.join(known)}; a dataset of your "
            "own gives folder (an image folder) or npz (an npz file)",
        )


def check_vectors_content(datasets: dict) -> None:
    """Normal vectors latents split into content and style, which only they do, and both
    blocks are non-empty."""
    for name, parameters in datasets.items():
        if dataset_kind(name) != "vectors":
            continue
        content, dim = parameters["content_latents"], parameters["latent_dim"]
        if parameters["space"] == "normal" and content is None:
            raise error_at(
                ("datasets", name, "content_latents"),
                f"normal latents are content and style: set how many of the {dim} are content; "
                f"allowed: 1 to {dim - 1}",
            )
        if parameters["space"] != "normal" and content is not None:
            raise error_at(
                ("datasets", name, "content_latents"),
                f"{content} has no effect: only normal latents split into content and style; "
                "allowed: null here",
            )
        if content is not None and content >= dim:
            raise error_at(
                ("datasets", name, "content_latents"),
                f"{content} leaves no style of the {dim} latents; allowed: 1 to {dim - 1}",
            )


def split_sizes(dataset: str, parameters: dict) -> tuple[int, int]:
    """(train, test) examples of ``dataset`` built with ``parameters`` (defaults filled); a
    dataset of your own is checked on disk (:func:`sslgeom.data.inspect_source`) first."""
    if source_key(parameters) is not None:
        try:
            summary = inspect_source(parameters)
        except SourceError as err:
            key_path = ("datasets", dataset) + ((err.key,) if err.key else ())
            raise error_at(key_path, str(err)) from None
        return summary.n_train, summary.n_test
    if dataset == "mnist5k":
        return MNIST5K_IMAGES - parameters["n_test"], parameters["n_test"]
    return parameters["n_train"], parameters["n_test"]
