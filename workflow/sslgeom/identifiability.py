"""Identifiability across runs: how similar the representations of different runs are.

Tests the empirical programme of Reizinger et al. (arXiv 2504.13101): every pair of runs of an
experiment is compared at each chosen layer on the same test images, with every similarity of
:mod:`sslgeom.metrics.similarity` and its permutation null; each run's intermediate snapshots are
compared with its final model and with the other seeds' snapshots of the same epoch. Each
representation's statistics are computed once and shared by all the pairs it is part of.
"""

import itertools
import time
from collections.abc import Iterator

from sslgeom.artifacts import load_embeddings
from sslgeom.metrics.similarity import (
    RepresentationStats,
    pair_similarities,
    permuted,
    representation_stats,
)


class RunRepresentations:
    """The statistics (and their row-shuffled null copies) of one run, per epoch and layer."""

    def __init__(self, embeddings_path: str, final_epoch: int, layers: list[str], options: dict):
        embeddings = load_embeddings(embeddings_path)
        snapshots = embeddings["snapshot_epochs"].tolist()
        prefixes = {epoch: f"epoch{epoch}_" for epoch in snapshots} | {final_epoch: ""}
        self.final_epoch = final_epoch
        self.epochs = list(prefixes)
        self.stats: dict[tuple, RepresentationStats] = {}
        self.null_stats: dict[tuple, RepresentationStats] = {}
        for (epoch, prefix), layer in itertools.product(prefixes.items(), layers):
            stats = representation_stats(
                embeddings[f"{prefix}train_{layer}"][: options["fit_images"]],
                embeddings[f"{prefix}test_{layer}"],
                k=options["knn_k"],
                ridge_alpha=options["ridge_alpha"],
            )
            self.stats[epoch, layer] = stats
            self.null_stats[epoch, layer] = permuted(stats, options["null_seed"])


def differing_factors(a: dict, b: dict, factors: list[str]) -> list[str]:
    return [factor for factor in factors if a[factor] != b[factor]]


def similarity_rows(
    a: RunRepresentations, b: RunRepresentations, epoch_a, epoch_b, layers: list[str]
) -> Iterator[dict]:
    """One row per layer and metric: the similarity of a and b and its permutation null."""
    for layer in layers:
        values = pair_similarities(a.stats[epoch_a, layer], b.stats[epoch_b, layer])
        nulls = pair_similarities(a.stats[epoch_a, layer], b.null_stats[epoch_b, layer])
        for metric, value in values.items():
            yield {"layer": layer, "metric": metric, "value": value, "null": nulls[metric]}


def compare_runs(
    run_ids: list[str],
    embeddings_paths: list[str],
    final_epochs: list[int],
    factor_values: list[dict],
    options: dict,
    log=print,
) -> tuple[list[dict], list[dict]]:
    """(similarity rows of every pair of runs, convergence rows of every run's snapshots).

    ``final_epochs[i]`` is the number of epochs and ``factor_values[i]`` are the factor columns
    of run ``run_ids[i]``. A similarity row names the
    two runs, the factors in which they differ (``differs_in``, joined by ``+``), both runs'
    factor values (suffixes ``_a`` and ``_b``), the layer, the metric, its value and null.
    A convergence row compares a snapshot epoch of one run with the same run's final model
    (``comparison`` = ``to_final``) or with the same epoch of a run that differs only in its
    seed (``across_seeds``); the final epoch is included as ``epoch`` = the run's last epoch.
    """
    layers, factors = options["layers"], list(factor_values[0])
    started = time.perf_counter()
    runs = [
        RunRepresentations(path, epochs, layers, options)
        for path, epochs in zip(embeddings_paths, final_epochs, strict=True)
    ]
    seconds = time.perf_counter() - started
    log(f"statistics of {len(runs)} runs × {len(layers)} layers in {seconds:.1f} s")

    started = time.perf_counter()
    similarity, convergence = [], []
    for (i, a), (j, b) in itertools.combinations(enumerate(runs), 2):
        differs = differing_factors(factor_values[i], factor_values[j], factors)
        pair = {
            "run_a": run_ids[i],
            "run_b": run_ids[j],
            "differs_in": "+".join(differs),
            **{f"{factor}_a": factor_values[i][factor] for factor in factors},
            **{f"{factor}_b": factor_values[j][factor] for factor in factors},
        }
        similarity += [
            pair | row for row in similarity_rows(a, b, a.final_epoch, b.final_epoch, layers)
        ]
        if differs == ["seed"]:
            for epoch in a.epochs:
                rows = similarity_rows(a, b, epoch, epoch, layers)
                convergence += [
                    {"run_a": run_ids[i], "run_b": run_ids[j], **factor_values[i]}
                    | {"epoch": epoch, "comparison": "across_seeds"}
                    | row
                    for row in rows
                ]
    for i, run in enumerate(runs):
        for epoch in run.epochs:
            convergence += [
                {"run_a": run_ids[i], "run_b": run_ids[i], **factor_values[i]}
                | {"epoch": epoch, "comparison": "to_final"}
                | row
                for row in similarity_rows(run, run, epoch, run.final_epoch, layers)
            ]
    n_pairs = len(runs) * (len(runs) - 1) // 2
    log(f"{n_pairs} pairs and the snapshots compared in {time.perf_counter() - started:.1f} s")
    return similarity, convergence
