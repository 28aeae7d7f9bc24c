"""Checks of an experiment's grid and variants, and where each of its runs was written: a key is
set in settings or swept in grid, not both; the values of a grid key print distinctly (they name
the runs); each variant changes its factor from the base settings to a value of its own. A
:class:`RunOrigin` maps each key of one run to the settings, grid or variant entry that set it,
so that the checks of the run blame what the user wrote.
"""

import itertools
from dataclasses import dataclass, field

from sslgeom.config.experiments import format_value, variants
from sslgeom.config.messages import KeyPath, dotted, error_at


@dataclass(frozen=True)
class RunOrigin:
    """Where the settings of one run were written: its experiment, variant and grid point."""

    experiment: KeyPath
    grid_index: dict[str, int]
    variant: tuple[str, int] | None = None
    overrides: dict = field(default_factory=dict)

    def block_of(self, key: str) -> KeyPath:
        """The path of the mapping that sets ``key``: its variant, the grid or the settings."""
        if key in self.overrides:
            return self._variant_path()
        return (*self.experiment, "grid" if key in self.grid_index else "settings")

    def path_of(self, key: str) -> KeyPath:
        """The path of ``key``'s value: ``vary.<factor>[i]``, ``grid.<key>[i]`` or settings."""
        if key in self.overrides:
            coupled = self.overrides.keys() != {self.variant[0]}
            return (*self._variant_path(), key) if coupled else self._variant_path()
        if key in self.grid_index:
            return (*self.block_of(key), key, self.grid_index[key])
        return (*self.block_of(key), key)

    def _variant_path(self) -> KeyPath:
        return (*self.experiment, "vary", *self.variant)


def run_origins(where: KeyPath, experiment: dict) -> list[RunOrigin]:
    """The origin of each run of the experiment at ``where``, in the order of
    :func:`sslgeom.config.experiments.experiment_runs`: variant by variant, each over the grid."""
    return [
        RunOrigin(where, grid_index, variant, overrides)
        for variant, overrides in variants(experiment)
        for grid_index in _grid_indices(experiment["grid"])
    ]


def _grid_indices(grid: dict[str, list]) -> list[dict[str, int]]:
    """Swept key → index into its list of values, for each point of the grid."""
    ranges = [range(len(values)) for values in grid.values()]
    return [dict(zip(grid, point, strict=True)) for point in itertools.product(*ranges)]


def check_grid_and_variants(where: KeyPath, experiment: dict) -> None:
    """Each key of the experiment at ``where`` is set in one place, to values of its own."""
    _check_not_set_twice(where, experiment)
    _check_grid_values_distinct(where, experiment["grid"])
    _check_variants(where, experiment)


def _check_not_set_twice(where: KeyPath, experiment: dict) -> None:
    both = [key for key in experiment["settings"] if key in experiment["grid"]]
    if both:
        raise error_at(
            (*where, "settings", both[0]),
            f"{both[0]!r} is also swept in {dotted((*where, 'grid'))}; "
            "allowed: set it in settings or in grid, not both",
        )


def _check_grid_values_distinct(where: KeyPath, grid: dict[str, list]) -> None:
    """Two grid values that print alike would name (and so overwrite) the same run."""
    for key, values in grid.items():
        first_index = {}
        for index, value in enumerate(values):
            label = format_value(value)
            if label in first_index:
                raise error_at(
                    (*where, "grid", key, index),
                    f"{value!r} repeats {key}[{first_index[label]}] (both name runs "
                    f"'{key}~{label}'); each value may appear once",
                )
            first_index[label] = index


def _check_variants(where: KeyPath, experiment: dict) -> None:
    """Each variant changes its factor from the base settings, to a value of its own."""
    settings, grid = experiment["settings"], experiment["grid"]
    for factor, values in experiment.get("vary", {}).items():
        path = (*where, "vary", factor)
        if factor in grid:
            raise error_at(
                path,
                f"{factor!r} is also swept in {dotted((*where, 'grid'))}; "
                "allowed: sweep it in grid or vary it, not both",
            )
        if factor not in settings:
            raise error_at(
                path, f"{factor!r} has no base value; set it in {dotted((*where, 'settings'))}"
            )
        seen = {format_value(settings[factor]): "the base value in settings"}
        for index, value in enumerate(values):
            overrides = value if isinstance(value, dict) else {factor: value}
            if factor not in overrides:
                raise error_at((*path, index), f"a variant of {factor} must set {factor!r} itself")
            swept = [key for key in overrides if key in grid]
            if swept:
                raise error_at(
                    (*path, index, swept[0]), f"{swept[0]!r} is swept in grid; vary sets it too"
                )
            label = format_value(overrides[factor])
            if label in seen:
                raise error_at(
                    (*path, index),
                    f"{overrides[factor]!r} repeats {seen[label]}; each variant must change "
                    f"{factor} to a value of its own",
                )
            seen[label] = f"{factor}[{index}]"
