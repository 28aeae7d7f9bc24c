"""Checks of the analyses' settings: the alpha_req fit range is not empty, the test images the
embedding's views and the geometry take exist in the test splits that give them, and the tangent
subspace's k directions have enough augmentations and neighbours to span them.
"""

from sslgeom.config.messages import error_at


def check_alpha_req_indices(analysis: dict) -> None:
    first, last = analysis["alpha_req_first_index"], analysis["alpha_req_last_index"]
    if first >= last:
        raise error_at(
            ("analysis", "alpha_req_first_index"),
            f"{first} is not below alpha_req_last_index ({last}); allowed: value < {last}",
        )


def check_test_images(config: dict, runs: dict[str, dict[str, dict]], sizes: dict) -> None:
    """Images taken from the test split must exist in the smallest test split that uses them:
    view images in every run's dataset, geometry images in those of geometry experiments."""
    geometry = [name for name in runs if "geometry" in config["experiments"][name]["analyses"]]
    for key_path, experiments in (
        (("embedding", "n_view_images"), list(runs)),
        (("geometry", "n_images"), geometry),
    ):
        used = {settings["dataset"] for name in experiments for settings in runs[name].values()}
        if not used:
            continue
        smallest = min(sorted(used), key=lambda name: sizes[name][1])
        n_test = sizes[smallest][1]
        wanted = config[key_path[0]][key_path[1]]
        if wanted > n_test:
            raise error_at(
                key_path,
                f"{wanted} is larger than the test split of {smallest} ({n_test} images); "
                f"allowed: value ≤ {n_test}",
            )


def check_subspace_dimension(geometry: dict) -> None:
    """k directions need at least k augmentations and k neighbours to span them."""
    for key in ("n_augmentations", "n_neighbors"):
        if geometry["k"] > geometry[key]:
            raise error_at(
                ("geometry", "k"),
                f"{geometry['k']} is larger than geometry.{key} ({geometry[key]}); "
                f"allowed: value ≤ {geometry[key]}",
            )
