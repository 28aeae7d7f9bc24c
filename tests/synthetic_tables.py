"""Small synthetic tables shaped like the pipeline's: a strength sweep over two datasets, a
projector-size sweep, and an identifiability star design; values follow known formulas."""

import itertools

import numpy as np
import pandas as pd

from sslgeom.config.experiments import Design
from sslgeom.data.shapes import CONTENT_LATENTS, STYLE_LATENTS
from sslgeom.metrics.similarity import SIMILARITY_METRICS

FACTORS = ["dataset", "method", "strength", "seed"]
DATASETS = ("shapes", "mnist5k")
STRENGTHS = (0.0, 0.5, 1.0)
SEEDS = (0, 1)
LAYERS = ("encoder", "proj1", "projector")
FAMILIES = ("augmentation", "style", "content", "data", "random")
LATENTS = (*CONTENT_LATENTS, *STYLE_LATENTS)
DEPTHS = (1, 2, 3)
HIDDEN_DIMS = (128, 512)
SIZE_FACTORS = [*FACTORS, "projector_depth", "projector_hidden_dim"]
DESIGN = Design(FACTORS, crossed=["dataset", "strength"])
SIZE_DESIGN = Design(SIZE_FACTORS, crossed=["dataset", "strength", *SIZE_FACTORS[4:]])

STAR_FACTORS = ["dataset", "method", "strength", "seed", "optimizer"]
BASE = {"dataset": "shapes", "strength": 0.5, "optimizer": "adamw"}
VARIANTS = [{}, {"strength": 1.0}, {"optimizer": "sgd"}]
STAR_DESIGN = Design(STAR_FACTORS, base={"strength": 0.5, "optimizer": "adamw"}, crossed=["method"])
STAR_LAYERS = ["encoder", "projector"]


def runs(seeds=SEEDS, **extra_factors) -> list[dict]:
    """One dict of factor values per (dataset, strength, seed[, extra factors]) run."""
    extra_names = list(extra_factors)
    grid = itertools.product(DATASETS, STRENGTHS, seeds, *extra_factors.values())
    return [
        {"dataset": d, "method": "simclr", "strength": s, "seed": seed}
        | dict(zip(extra_names, extra, strict=True))
        for d, s, seed, *extra in grid
    ]


def make_metrics(seeds=SEEDS, **extra_factors) -> pd.DataFrame:
    """Tidy metrics table: accuracies rise with strength, invariance falls."""
    rng = np.random.default_rng(0)
    rows = []
    for run in runs(seeds, **extra_factors):
        for depth, layer in enumerate(LAYERS):
            base = 0.3 + 0.5 * run["strength"] - 0.05 * depth
            values = {
                "probe_acc": base + rng.normal(0, 0.02),
                "knn_acc": base - 0.05 + rng.normal(0, 0.02),
                "invariance": 1 - 0.6 * run["strength"] + rng.normal(0, 0.02),
                "rankme": 100 * (1 - 0.3 * depth) * (0.2 + run["strength"]),
            }
            rows += [{**run, "layer": layer, "metric": m, "value": v} for m, v in values.items()]
    return pd.DataFrame(rows)


def make_spectra(seeds=SEEDS, n_values: int = 32) -> pd.DataFrame:
    """Tidy spectra table with power-law singular values, steeper at low strength."""
    index = np.arange(1, n_values + 1)
    rows = []
    for run in runs(seeds):
        for layer in LAYERS:
            sigma = index ** -(0.5 + 1.5 * (1 - run["strength"]))
            rows += [
                {**run, "layer": layer, "index": i, "value": v}
                for i, v in zip(index, sigma, strict=True)
            ]
    return pd.DataFrame(rows)


def make_train_logs(seeds=SEEDS, n_epochs: int = 10) -> pd.DataFrame:
    """Tidy training log: loss decays over epochs, more slowly at high strength."""
    rng = np.random.default_rng(1)
    rows = []
    for run in runs(seeds):
        for epoch in range(1, n_epochs + 1):
            loss = 1 + 4 * run["strength"] + 5 * np.exp(-epoch / 3) + rng.normal(0, 0.05)
            rows.append({**run, "epoch": epoch, "loss": loss, "lr": 0.1, "seconds": 1.0})
    return pd.DataFrame(rows).assign(views_per_s=1000.0)


def make_geometry(seeds=SEEDS) -> pd.DataFrame:
    """Tidy geometry table: the projector shrinks augmentation directions more as s grows."""
    rng = np.random.default_rng(3)
    slopes = {"augmentation": -0.8, "style": -0.4, "content": 0.3, "data": -0.1, "random": 0.0}
    rows = []
    for run in runs(seeds):
        s = run["strength"]
        for family, slope in slopes.items():
            values = {
                "sensitivity": 1 + slope * s + rng.normal(0, 0.03),
                "angle": 80 + 25 * slope * s + rng.normal(0, 1),
            }
            rows += [{**run, "family": family, "metric": m, "value": v} for m, v in values.items()]
        for metric, value in {"stable_rank": 3 + 4 * s, "effective_rank": 10 + 20 * s}.items():
            rows.append({**run, "family": "jacobian", "metric": metric, "value": value})
    return pd.DataFrame(rows)


def make_jacobian_spectrum(seeds=SEEDS, n_values: int = 24) -> pd.DataFrame:
    """Tidy Jacobian spectrum: singular values decaying faster at low strength."""
    index = np.arange(1, n_values + 1)
    rows = []
    for run in runs(seeds):
        sigma = 2 * np.exp(-index * (0.4 - 0.3 * run["strength"])) + 0.01 * run["seed"]
        rows += [{**run, "index": i, "value": v} for i, v in zip(index, sigma, strict=True)]
    return pd.DataFrame(rows)


def make_latent_metrics(seeds=SEEDS) -> pd.DataFrame:
    """Metrics table plus latent R² rows for the shapes dataset only: along the network,
    content stays decodable and style is lost, more so at high strength."""
    rng = np.random.default_rng(4)
    rows = []
    for run in runs(seeds):
        if run["dataset"] != "shapes":
            continue
        for depth, layer in enumerate(LAYERS):
            for latent in LATENTS:
                if latent == "shape":
                    r2 = 0.5 + 0.3 * run["strength"] + 0.05 * depth
                else:
                    r2 = 0.9 - depth * (0.1 + 0.3 * run["strength"]) - 0.05 * LATENTS.index(latent)
                metric = f"latent_r2_{latent}"
                value = r2 + rng.normal(0, 0.02)
                rows.append({**run, "layer": layer, "metric": metric, "value": value})
    return pd.concat([make_metrics(seeds), pd.DataFrame(rows)], ignore_index=True)


def expected_gap(depth: int, hidden_dim: int, strength: float, seed: int = 0) -> float:
    """Encoder − projector probe accuracy gap used by :func:`make_projector_sweep`: 10 % wider
    per seed."""
    return (0.02 * depth * (1 + strength) + 10 / hidden_dim) * (1 + 0.1 * seed)


def make_projector_sweep(seeds=SEEDS) -> pd.DataFrame:
    """Metrics of a projector depth × width sweep with a known probe gap per run."""
    rows = []
    for run in runs(seeds, projector_depth=DEPTHS, projector_hidden_dim=HIDDEN_DIMS):
        depth, width, s = run["projector_depth"], run["projector_hidden_dim"], run["strength"]
        encoder_acc = 0.5 + 0.3 * s + 0.01 * run["seed"]
        values = {
            ("encoder", "probe_acc"): encoder_acc,
            ("projector", "probe_acc"): encoder_acc - expected_gap(depth, width, s, run["seed"]),
            ("encoder", "rankme"): 200.0,
            ("projector", "rankme"): width / 8 * (0.3 + s) / depth,
        }
        rows += [{**run, "layer": la, "metric": m, "value": v} for (la, m), v in values.items()]
    return pd.DataFrame(rows)


def make_examples(n_images: int = 3, n_views: int = 2, size: int = 16) -> dict:
    """Random uint8 views for every dataset and strength."""
    rng = np.random.default_rng(2)
    shape = (n_images, n_views, size, size, 3)
    return {
        d: {s: rng.integers(0, 256, shape, dtype=np.uint8) for s in STRENGTHS} for d in DATASETS
    }


def star_runs() -> list[dict]:
    """Base and one-factor variants, crossed with two methods and two seeds."""
    return [
        {"run": f"run{i}", **BASE, **variant, "method": method, "seed": seed}
        for i, (variant, method, seed) in enumerate(
            itertools.product(VARIANTS, ["simclr", "barlow"], [0, 1])
        )
    ]


def similarity_table() -> pd.DataFrame:
    """Every pair of :func:`star_runs`: similarity falls with the factors the runs differ in."""
    rng = np.random.default_rng(0)
    rows = []
    for a, b in itertools.combinations(star_runs(), 2):
        differs = [f for f in STAR_FACTORS if a[f] != b[f]]
        pair = {"run_a": a["run"], "run_b": b["run"], "differs_in": "+".join(differs)}
        pair |= {f"{f}_a": a[f] for f in STAR_FACTORS} | {f"{f}_b": b[f] for f in STAR_FACTORS}
        for layer, metric in itertools.product(STAR_LAYERS, SIMILARITY_METRICS):
            value = 0.9 - 0.2 * len(differs) + 0.05 * rng.standard_normal()
            nulls = {"null_mean": rng.uniform(0, 0.1), "null_q95": rng.uniform(0.1, 0.2)}
            untrained = 0.3 + 0.01 * rng.standard_normal()
            rows.append(
                pair
                | {"layer": layer, "metric": metric, "value": value, **nulls, "p_value": 0.01}
                | {"untrained": untrained}
            )
    return pd.DataFrame(rows)


LATENT_SCORES = {
    **{f"latent_r2_{latent}": 0.8 for latent in CONTENT_LATENTS},
    **{f"latent_r2_{latent}": 0.1 * (i + 1) for i, latent in enumerate(STYLE_LATENTS)},
    **{f"latent_r2_kernel_{latent}": 0.9 for latent in CONTENT_LATENTS},
    **{f"latent_r2_kernel_{latent}": 0.1 * (i + 2) for i, latent in enumerate(STYLE_LATENTS)},
    "mcc": 0.6,
}
"""Latent scores of a base run of seed 0 at the encoder."""
LATENT_LAYERS = ("encoder", "proj1", "projector")
OFF_BASE = 10.0
"""What runs with the optimizer off its base value add to every score, so that they show."""


def star_offset(run: dict) -> float:
    """What a run of :func:`star_runs` adds to a score: 0.1 per seed, 0.2 for barlow, and off
    the base optimizer :data:`OFF_BASE`."""
    method = 0.2 if run["method"] == "barlow" else 0.0
    return 0.1 * run["seed"] + method + (OFF_BASE if run["optimizer"] != BASE["optimizer"] else 0.0)


def latent_metrics_table() -> pd.DataFrame:
    """:data:`LATENT_SCORES` of every run and layer, plus :func:`star_offset`, plus 0.01 per
    layer along the network."""
    rows = [
        {**{f: run[f] for f in STAR_FACTORS}, "layer": layer, "metric": name}
        | {"value": score + star_offset(run) + 0.01 * depth}
        for run in star_runs()
        for depth, layer in enumerate(LATENT_LAYERS)
        for name, score in LATENT_SCORES.items()
    ]
    return pd.DataFrame(rows)


CONVERGENCE_EPOCHS = (1, 2, 4)


def convergence_table() -> pd.DataFrame:
    """Similarity to the final model rises as epoch / 4, across seeds it is 0.3; plus
    :func:`star_offset`; the null's 95th percentile is 0.01 × epoch."""
    rows = []
    for run, epoch, layer, metric in itertools.product(
        star_runs(), CONVERGENCE_EPOCHS, STAR_LAYERS, SIMILARITY_METRICS
    ):
        factors = {f: run[f] for f in STAR_FACTORS}
        for comparison in ("to_final", "across_seeds"):
            value = (epoch / 4 if comparison == "to_final" else 0.3) + star_offset(run)
            rows.append(
                {"run_a": run["run"], "run_b": run["run"], **factors, "epoch": epoch}
                | {"comparison": comparison, "layer": layer, "metric": metric}
                | {"value": value, "null_mean": 0.0, "null_q95": 0.01 * epoch, "p_value": 0.01}
            )
    return pd.DataFrame(rows)
