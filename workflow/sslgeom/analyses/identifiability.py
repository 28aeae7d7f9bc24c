"""Identifiability across runs: how similar the representations of different runs are.

Tests the empirical programme of Reizinger et al. (arXiv 2504.13101): every pair of runs of an
experiment is compared at each chosen layer on the same test images, with every similarity of
:mod:`sslgeom.metrics.similarity` and its permutation null; each run's intermediate snapshots are
compared with its final model and with the other seeds' snapshots of the same epoch. Each
representation's statistics are computed once and shared by all the pairs it is part of.
"""

import itertools
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from sslgeom.io.artifacts import EPOCH_TRAINED_ELSEWHERE, load_embeddings
from sslgeom.metrics.similarity import (
    RepresentationStats,
    Shuffles,
    null_summary,
    pair_similarities,
    permutation_null,
    permutation_orders,
    representation_stats,
)

UNTRAINED_EPOCH = 0


class RunRepresentations:
    """The statistics of one run's representations, per epoch and layer."""

    def __init__(self, embeddings_path: str, layers: list[str], options: dict):
        embeddings = load_embeddings(embeddings_path)
        snapshots = embeddings["snapshot_epochs"].tolist()
        self.final_epoch = int(embeddings["final_epoch"])
        prefixes = {epoch: f"epoch{epoch}_" for epoch in snapshots} | {self.final_epoch: ""}
        self.epochs = list(prefixes)
        self.stats: dict[tuple, RepresentationStats] = {}
        for (epoch, prefix), layer in itertools.product(prefixes.items(), layers):
            self.stats[epoch, layer] = representation_stats(
                embeddings[f"{prefix}train_{layer}"][: options["fit_images"]],
                embeddings[f"{prefix}test_{layer}"],
                k=options["knn_k"],
                ridge_alpha=options["ridge_alpha"],
            )


def differing_factors(a: dict, b: dict, factors: list[str]) -> list[str]:
    return [factor for factor in factors if a[factor] != b[factor]]


class Comparisons:
    """Pairs of representations to compare, each keyed (run index, epoch, layer), with the
    metadata of its output rows; :meth:`rows` measures them all with their permutation nulls."""

    def __init__(self, runs: list[RunRepresentations], layers: list[str]):
        self.runs, self.layers = runs, layers
        self.pairs: list[tuple[str, tuple, tuple, dict]] = []

    def add(self, table: str, a: int, epoch_a: int, b: int, epoch_b: int, meta: dict) -> None:
        """Compare run a at ``epoch_a`` with run b at ``epoch_b`` at every layer, for the rows
        of ``table``."""
        for layer in self.layers:
            key_a, key_b = (a, epoch_a, layer), (b, epoch_b, layer)
            self.pairs.append((table, key_a, key_b, meta | {"layer": layer}))

    def _stats(self, key: tuple) -> RepresentationStats:
        run, epoch, layer = key
        return self.runs[run].stats[epoch, layer]

    def _nulls(self, shuffles: Shuffles) -> dict[tuple, dict[str, np.ndarray]]:
        """(key_a, key_b) → metric → null draws, the rows of b shuffled (CKA and mutual k-NN:
        the R² has no null, :mod:`sslgeom.metrics.similarity`)."""
        by_target = defaultdict(set)
        for _, key_a, key_b, _ in self.pairs:
            by_target[key_b].add(key_a)
        nulls = defaultdict(dict)
        for key_b, keys_a in by_target.items():
            keys_a = sorted(keys_a)
            draws = permutation_null([self._stats(k) for k in keys_a], self._stats(key_b), shuffles)
            for index, key_a in enumerate(keys_a):
                nulls[key_a, key_b] |= {metric: values[index] for metric, values in draws.items()}
        return nulls

    def rows(self, shuffles: Shuffles) -> dict[str, list[dict]]:
        """Table → one row per pair and metric: the metadata, ``metric``, ``value`` and the
        summary of its null (:func:`null_summary`; empty without one). Pairs that
        share a representation share its null computations, whatever their table."""
        nulls = self._nulls(shuffles)
        values_of = {}  # a seed pair's final models are in both tables
        rows = defaultdict(list)
        for table, key_a, key_b, meta in self.pairs:
            if (key_a, key_b) not in values_of:
                values_of[key_a, key_b] = pair_similarities(self._stats(key_a), self._stats(key_b))
            values = values_of[key_a, key_b]
            rows[table] += [
                meta
                | {"metric": metric, "value": value}
                | null_summary(value, nulls[key_a, key_b].get(metric))
                for metric, value in values.items()
            ]
        return dict(rows)


def untrained_values(runs: list[RunRepresentations], i: int, j: int, layers: list[str]) -> dict:
    """(layer, metric) → the similarity of runs i and j before training (their epoch-0
    snapshots), empty when either run lacks one."""
    a, b = runs[i], runs[j]
    if UNTRAINED_EPOCH not in a.epochs or UNTRAINED_EPOCH not in b.epochs:
        return {}
    values = {}
    for layer in layers:
        pair = pair_similarities(a.stats[UNTRAINED_EPOCH, layer], b.stats[UNTRAINED_EPOCH, layer])
        values |= {(layer, metric): value for metric, value in pair.items()}
    return values


def compare_runs(
    run_ids: list[str],
    embeddings_paths: list[str],
    factor_values: list[dict],
    options: dict,
    log: Callable[[str], None] = print,
) -> tuple[list[dict], list[dict]]:
    """(similarity rows of every pair of runs, convergence rows of every run's snapshots).

    ``factor_values[i]`` are the factor columns of run ``run_ids[i]``. A similarity row names
    the two runs, the factors in which they differ (``differs_in``, joined by ``+``), both
    runs' factor values (suffixes ``_a`` and ``_b``), the layer, the metric, its value, its
    permutation null over ``options["n_permutations"]`` shuffles of the test rows (CKA and
    mutual k-NN: ``null_mean``, ``null_q95``, ``p_value``, ``null_sd``, ``null_z``,
    ``p_normal`` of :func:`~sslgeom.metrics.similarity.null_summary`; empty for the R²) and
    ``untrained``: the same
    pair's similarity before training (epoch-0 snapshots; empty without them), the baseline
    of what the architecture and initialisation alone give. A convergence row compares a
    snapshot epoch of one run with the same run's final model (``comparison`` =
    ``to_final``) or with the same epoch of a run that differs only in its seed
    (``across_seeds``); the final model is included as ``epoch`` = the run's last epoch.
    Models trained elsewhere have no convergence rows.
    """
    layers, factors = options["layers"], list(factor_values[0])
    started = time.perf_counter()
    runs = [RunRepresentations(path, layers, options) for path in embeddings_paths]
    seconds = time.perf_counter() - started
    log(f"statistics of {len(runs)} runs × {len(layers)} layers in {seconds:.1f} s")

    started = time.perf_counter()
    comparisons = Comparisons(runs, layers)
    untrained = {}
    for (i, a), (j, b) in itertools.combinations(enumerate(runs), 2):
        differs = differing_factors(factor_values[i], factor_values[j], factors)
        comparisons.add(
            "similarity",
            i,
            a.final_epoch,
            j,
            b.final_epoch,
            {
                "run_a": run_ids[i],
                "run_b": run_ids[j],
                "differs_in": "+".join(differs),
                **{f"{factor}_a": factor_values[i][factor] for factor in factors},
                **{f"{factor}_b": factor_values[j][factor] for factor in factors},
            },
        )
        untrained[run_ids[i], run_ids[j]] = untrained_values(runs, i, j, layers)
        if differs == ["seed"]:
            for epoch in a.epochs:
                meta = {"run_a": run_ids[i], "run_b": run_ids[j], **factor_values[i]}
                comparisons.add(
                    "convergence",
                    i,
                    epoch,
                    j,
                    epoch,
                    meta | {"epoch": epoch, "comparison": "across_seeds"},
                )
    for i, run in enumerate(runs):
        if run.final_epoch == EPOCH_TRAINED_ELSEWHERE:
            continue
        for epoch in run.epochs:
            meta = {"run_a": run_ids[i], "run_b": run_ids[i], **factor_values[i]}
            comparisons.add(
                "convergence",
                i,
                epoch,
                i,
                run.final_epoch,
                meta | {"epoch": epoch, "comparison": "to_final"},
            )
    shuffles = permutation_orders(
        len(runs[0].stats[runs[0].final_epoch, layers[0]].test_centred),
        options["n_permutations"],
        options["null_seed"],
    )
    rows = comparisons.rows(shuffles)
    similarity = [
        row
        | {"untrained": untrained[row["run_a"], row["run_b"]].get((row["layer"], row["metric"]))}
        for row in rows["similarity"]
    ]
    n_pairs = len(runs) * (len(runs) - 1) // 2
    log(
        f"{n_pairs} pairs and the snapshots compared, each with {len(shuffles.orders)} "
        f"permutations, in {time.perf_counter() - started:.1f} s"
    )
    return similarity, rows.get("convergence", [])
