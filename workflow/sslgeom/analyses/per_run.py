"""The core per-run analyses: probes, invariance and spectra of every layer."""

import functools

import numpy as np

from sslgeom.data.shapes import CATEGORICAL_LATENTS, LATENT_NAMES, LATENT_PERIODS
from sslgeom.io.artifacts import load_embeddings, save_npz_atomically, write_rows
from sslgeom.metrics.invariance import invariance, mean_view_cosine
from sslgeom.metrics.latents import (
    kernel_ridge_r2,
    latent_r2_by_name,
    mcc_targets,
    mean_correlation_coefficient,
)
from sslgeom.metrics.probes import knn_correct, linear_probe_correct
from sslgeom.metrics.spectrum import alpha_req, participation_ratio, rankme, singular_values


def classified_right(embeddings: dict[str, np.ndarray], layer: str, options: dict) -> dict:
    """Accuracy metric (``probe_acc``, ``knn_acc``) → whether its classifier on ``layer`` gets
    each test image's class right: the per-image data the claims resample."""
    train, test = embeddings[f"train_{layer}"], embeddings[f"test_{layer}"]
    labels = embeddings["train_labels"], embeddings["test_labels"]
    return {
        "probe_acc": linear_probe_correct(
            train, labels[0], test, labels[1], max_iter=options["probe_max_iter"]
        ),
        "knn_acc": knn_correct(train, labels[0], test, labels[1], k=options["knn_k"]),
    }


def layer_metrics(
    embeddings: dict[str, np.ndarray], layer: str, options: dict, correct: dict
) -> dict:
    """Every core metric of one layer, by name; ``correct``: :func:`classified_right`."""
    test = embeddings[f"test_{layer}"]
    own_views, reference_views = embeddings[f"views_{layer}"], embeddings[f"refviews_{layer}"]
    return {name: float(np.mean(right)) for name, right in correct.items()} | {
        "invariance": invariance(own_views),
        "view_cosine": mean_view_cosine(own_views),
        "invariance_ref": invariance(reference_views),
        "view_cosine_ref": mean_view_cosine(reference_views),
        "rankme": rankme(test),
        "participation_ratio": participation_ratio(test),
        "alpha_req": alpha_req(
            test, options["alpha_req_first_index"], options["alpha_req_last_index"]
        ),
    }


def latent_metrics(embeddings: dict[str, np.ndarray], layer: str, options: dict) -> dict:
    """Latent recovery, for data whose latents are known: held-out linear R² of every latent
    and the MCC of the continuous generating latents (:func:`sslgeom.metrics.latents.mcc_targets`);
    where ``options`` give ``kernel_ridge_images``, also each latent's kernel-ridge R²."""
    if "train_latents" not in embeddings:
        return {}
    train_z, test_z = embeddings[f"train_{layer}"], embeddings[f"test_{layer}"]
    names = embeddings["latent_names"].tolist()
    # shapes' own encodings of its latents; any other dataset's latents are plain values
    is_shapes = tuple(names) == LATENT_NAMES
    periods = LATENT_PERIODS if is_shapes else {}
    categorical = CATEGORICAL_LATENTS if is_shapes else ()
    by_name = functools.partial(
        latent_r2_by_name,
        train_z,
        embeddings["train_latents"],
        test_z,
        embeddings["test_latents"],
        names,
        periods,
        categorical,
    )
    metrics = {f"latent_r2_{name}": value for name, value in by_name().items()}
    targets = mcc_targets(embeddings["test_latents"], names, periods, categorical)
    metrics["mcc"] = mean_correlation_coefficient(test_z, targets)
    if options.get("kernel_ridge_images") is not None:
        kernel = functools.partial(kernel_ridge_r2, max_train=options["kernel_ridge_images"])
        metrics |= {f"latent_r2_kernel_{name}": v for name, v in by_name(score=kernel).items()}
    return metrics


def analyze_run(
    embeddings_path: str, metrics_path: str, spectra_path: str, correct_path: str, options: dict
) -> None:
    """Write the tidy metric rows (layer, metric, value), the spectra (layer, index, value) and
    the per-image correctness of each accuracy (``{metric}_{layer}``, bool per test image)."""
    embeddings = load_embeddings(embeddings_path)
    metric_rows, spectrum_rows, correct_arrays = [], [], {}
    for layer in embeddings["layers"].tolist():
        correct = classified_right(embeddings, layer, options)
        correct_arrays |= {f"{name}_{layer}": right for name, right in correct.items()}
        metrics = layer_metrics(embeddings, layer, options, correct) | latent_metrics(
            embeddings, layer, options
        )
        metric_rows += [{"layer": layer, "metric": k, "value": v} for k, v in metrics.items()]
        values = singular_values(embeddings[f"test_{layer}"], center=True)
        spectrum_rows += [
            {"layer": layer, "index": i, "value": v} for i, v in enumerate(values, start=1)
        ]
        print(f"{layer}: " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    write_rows(metric_rows, metrics_path)
    write_rows(spectrum_rows, spectra_path)
    save_npz_atomically(correct_arrays, correct_path)
