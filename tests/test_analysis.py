"""Per-run analysis of synthetic embeddings, and the tidy tables that gather runs."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import CORE_METRICS as METRICS

from sslgeom.analyses.per_run import analyze_run
from sslgeom.data.shapes import CATEGORICAL_LATENTS, LATENT_NAMES, LATENT_PERIODS, sample_latents
from sslgeom.io.artifacts import save_npz_atomically
from sslgeom.io.tables import collect_runs
from sslgeom.metrics.latents import mean_correlation_coefficient, regression_targets

LAYERS = {"encoder": 6, "projector": 4}
OPTIONS = {
    "probe_max_iter": 200,
    "knn_k": 5,
    "alpha_req_first_index": 1,
    "alpha_req_last_index": 4,
}
N_TRAIN, N_TEST, N_VIEW_IMAGES, N_VIEWS = 40, 30, 8, 3


def separable(rng: np.random.Generator, n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes whose means lie 20 noise standard deviations apart along every axis."""
    labels = np.arange(n) % 2
    z = 10.0 * (2 * labels[:, None] - 1) + rng.standard_normal((n, dim))
    return z.astype(np.float32), labels


def synthetic_embeddings() -> dict[str, np.ndarray]:
    """The layout embed_run writes: encoder views are identical, projector views noisy."""
    rng = np.random.default_rng(0)
    arrays = {"layers": np.array(list(LAYERS))}
    for layer, dim in LAYERS.items():
        arrays[f"train_{layer}"], arrays["train_labels"] = separable(rng, N_TRAIN, dim)
        arrays[f"test_{layer}"], arrays["test_labels"] = separable(rng, N_TEST, dim)
        centres = rng.standard_normal((N_VIEW_IMAGES, 1, dim))
        noise = 0.0 if layer == "encoder" else 1.0
        for prefix in ("views", "refviews"):
            jitter = noise * rng.standard_normal((N_VIEW_IMAGES, N_VIEWS, dim))
            arrays[f"{prefix}_{layer}"] = (centres + jitter).astype(np.float32)
    return arrays


@pytest.fixture
def analyzed(tmp_path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    embeddings = synthetic_embeddings()
    save_npz_atomically(embeddings, tmp_path / "embeddings.npz")
    metrics_path, spectra_path = tmp_path / "metrics.csv", tmp_path / "spectra.csv"
    correct_path = tmp_path / "correct.npz"
    analyze_run(str(tmp_path / "embeddings.npz"), metrics_path, spectra_path, correct_path, OPTIONS)
    return pd.read_csv(metrics_path), pd.read_csv(spectra_path), embeddings


def test_stored_per_image_correctness_gives_the_accuracies(analyzed, tmp_path):
    metrics, _, embeddings = analyzed
    correct = np.load(tmp_path / "correct.npz")
    n_test = len(embeddings["test_labels"])
    for metric in ("probe_acc", "knn_acc"):
        for layer, accuracy in metric_values(metrics, metric).items():
            right = correct[f"{metric}_{layer}"]
            assert right.dtype == bool and right.shape == (n_test,)
            assert right.mean() == accuracy


def metric_values(metrics: pd.DataFrame, metric: str) -> pd.Series:
    return metrics[metrics["metric"] == metric].set_index("layer")["value"]


def test_metrics_have_one_row_per_layer_and_metric(analyzed):
    metrics, _, _ = analyzed
    assert list(metrics.columns) == ["layer", "metric", "value"]
    assert list(zip(metrics["layer"], metrics["metric"], strict=True)) == [
        (layer, metric) for layer in LAYERS for metric in METRICS
    ]


def test_probes_separate_separable_classes(analyzed):
    metrics, _, _ = analyzed
    for metric in ("probe_acc", "knn_acc"):
        assert (metric_values(metrics, metric) == 1.0).all()


def invariance_by_loop(views: np.ndarray) -> float:
    """1 − mean within-sample variance / total variance, summed over dimensions (ddof 0)."""
    flat = views.reshape(-1, views.shape[-1]).astype(np.float64)
    total = sum(np.var(flat[:, j]) for j in range(flat.shape[1]))
    within = np.mean([sum(np.var(sample[:, j]) for j in range(flat.shape[1])) for sample in views])
    return 1 - within / total


def test_invariance_matches_a_loop_over_samples(analyzed):
    metrics, _, embeddings = analyzed
    for metric in ("invariance", "invariance_ref", "view_cosine", "view_cosine_ref"):
        values = metric_values(metrics, metric)
        assert values["encoder"] == pytest.approx(1.0)  # identical views
    for prefix, metric in (("views", "invariance"), ("refviews", "invariance_ref")):
        expected = invariance_by_loop(embeddings[f"{prefix}_projector"])
        assert metric_values(metrics, metric)["projector"] == pytest.approx(expected, rel=1e-5)


def test_spectral_metrics_match_their_formulas(analyzed):
    """RankMe from the singular values of the uncentred test embeddings, the participation
    ratio from the eigenvalues of their covariance."""
    metrics, _, embeddings = analyzed
    for layer in LAYERS:
        z = embeddings[f"test_{layer}"].astype(np.float64)
        sigma = np.linalg.svd(z, compute_uv=False)
        p = sigma / sigma.sum() + 1e-7
        rankme = np.exp(-np.sum(p * np.log(p)))
        eigenvalues = np.linalg.eigvalsh(np.cov(z, rowvar=False))
        ratio = eigenvalues.sum() ** 2 / np.sum(eigenvalues**2)
        assert metric_values(metrics, "rankme")[layer] == pytest.approx(rankme, rel=1e-5)
        assert metric_values(metrics, "participation_ratio")[layer] == pytest.approx(
            ratio, rel=1e-5
        )


def test_spectra_are_centred_singular_values_of_the_test_embeddings(analyzed):
    _, spectra, embeddings = analyzed
    assert list(spectra.columns) == ["layer", "index", "value"]
    for layer, dim in LAYERS.items():
        rows = spectra[spectra["layer"] == layer]
        assert list(rows["index"]) == list(range(1, dim + 1))
        test = embeddings[f"test_{layer}"].astype(np.float64)
        expected = np.linalg.svd(test - test.mean(axis=0), compute_uv=False)
        np.testing.assert_allclose(rows["value"], expected, rtol=1e-9)


def test_truncated_embeddings_raise_with_rebuild_hint(tmp_path):
    path = tmp_path / "embeddings.npz"
    save_npz_atomically(synthetic_embeddings(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=re.escape(str(path))) as error:
        analyze_run(
            str(path),
            tmp_path / "metrics.csv",
            tmp_path / "spectra.csv",
            tmp_path / "c.npz",
            OPTIONS,
        )
    assert f"--forcerun embed {path}" in str(error.value)
    assert not (tmp_path / "metrics.csv").exists()


def test_collect_runs_puts_factor_columns_first(tmp_path):
    paths = []
    for index in range(2):
        paths.append(tmp_path / f"run{index}.csv")
        pd.DataFrame({"layer": ["encoder", "projector"], "value": [index, 10 + index]}).to_csv(
            paths[-1], index=False
        )
    factors = [
        {"dataset": "shapes", "method": "simclr", "strength": 0.0, "seed": 0},
        {"dataset": "mnist5k", "method": "simclr", "strength": 0.5, "seed": 1},
    ]
    table = collect_runs([str(path) for path in paths], factors)
    assert list(table.columns) == ["dataset", "method", "strength", "seed", "layer", "value"]
    assert table["dataset"].tolist() == ["shapes", "shapes", "mnist5k", "mnist5k"]
    assert table["strength"].tolist() == [0.0, 0.0, 0.5, 0.5]
    assert table["seed"].tolist() == [0, 0, 1, 1]
    assert table["value"].tolist() == [0, 10, 1, 11]
    assert table.index.tolist() == [0, 1, 2, 3]


def test_collect_runs_needs_one_factor_dict_per_path(tmp_path):
    path = tmp_path / "run.csv"
    pd.DataFrame({"value": [1]}).to_csv(path, index=False)
    with pytest.raises(ValueError):
        collect_runs([str(path)], [])


def analyzed_metrics(tmp_path, embeddings: dict, options: dict = OPTIONS) -> pd.DataFrame:
    """The metrics.csv that analyze_run writes for ``embeddings`` (saved under tmp_path)."""
    save_npz_atomically(embeddings, tmp_path / "embeddings.npz")
    metrics_path = tmp_path / "metrics.csv"
    analyze_run(
        str(tmp_path / "embeddings.npz"),
        metrics_path,
        tmp_path / "s.csv",
        tmp_path / "c.npz",
        options,
    )
    return pd.read_csv(metrics_path)


def test_latent_metrics_when_latents_are_known(tmp_path):
    """Shapes-style latents: a layer that is the latents themselves recovers them exactly."""
    embeddings = synthetic_embeddings()
    rng = np.random.default_rng(1)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        latents = sample_latents(n, rng)
        embeddings[f"{split}_latents"] = latents
        embeddings[f"{split}_encoder"] = regression_features(latents)
    embeddings["latent_names"] = np.array(LATENT_NAMES)
    metrics = analyzed_metrics(tmp_path, embeddings)
    for name in LATENT_NAMES:
        assert metric_values(metrics, f"latent_r2_{name}")["encoder"] > 0.99


def test_latents_of_other_datasets_are_plain_values_whatever_their_names(tmp_path):
    """A latent named like one of shapes' periodic latents, on another dataset, is regressed as
    its value: an encoder holding it linearly recovers it (R² 1); read as an angle of period
    2π over [0, 20], as on shapes, its cos/sin would not be linear in it."""
    embeddings = synthetic_embeddings()
    rng = np.random.default_rng(3)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        latents = rng.uniform(0, 20, (n, 1))
        embeddings[f"{split}_latents"] = latents
        embeddings[f"{split}_encoder"] = np.column_stack([latents, rng.standard_normal((n, 3))])
    embeddings["latent_names"] = np.array(["rotation"])
    r2 = metric_values(analyzed_metrics(tmp_path, embeddings), "latent_r2_rotation")["encoder"]
    assert r2 > 0.99


def regression_features(latents: np.ndarray) -> np.ndarray:
    """The latents in the encoding latent recovery regresses onto: one-hot, cos/sin, raw."""
    targets = regression_targets(latents, LATENT_NAMES, LATENT_PERIODS, CATEGORICAL_LATENTS)
    return np.concatenate(list(targets.values()), axis=1).astype(np.float32)


def mcc_of_layer(tmp_path, make_layer) -> float:
    """The ``mcc`` analyze_run writes for an encoder layer ``make_layer(latents, rng)``, on
    shapes latents (N_TEST test rows)."""
    embeddings = synthetic_embeddings()
    rng = np.random.default_rng(2)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        latents = sample_latents(n, rng)
        embeddings[f"{split}_latents"] = latents
        embeddings[f"{split}_encoder"] = make_layer(latents, rng).astype(np.float32)
    embeddings["latent_names"] = np.array(LATENT_NAMES)
    metrics = analyzed_metrics(tmp_path, embeddings, OPTIONS | {"kernel_ridge_images": 20})
    return metric_values(metrics, "mcc")["encoder"]


def generating_latent_columns(latents: np.ndarray) -> np.ndarray:
    """pos_x, pos_y, scale, and each periodic latent's cos and sin, one column each."""
    columns = [latents[:, 1], latents[:, 2], latents[:, 3]]
    for index, name in enumerate(LATENT_NAMES):
        if name in LATENT_PERIODS:
            angle = latents[:, index] * 2 * np.pi / LATENT_PERIODS[name]
            columns += [np.cos(angle), np.sin(angle)]
    return np.column_stack(columns)


def generating_latent_copies(latents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The generating latent columns permuted, rescaled and sign-flipped, between 8 noise
    dimensions."""
    columns = generating_latent_columns(latents)
    copies = columns * rng.choice([-3.0, -0.5, 2.0], columns.shape[1])
    z = np.column_stack([copies, rng.standard_normal((len(latents), 8))])
    return z[:, rng.permutation(z.shape[1])]


def test_mcc_of_copies_of_the_generating_latents_is_one(tmp_path):
    """The class is not an MCC target: a layer holding every continuous latent in one
    dimension scores 1 (matching the one-hot class columns too could not)."""
    assert mcc_of_layer(tmp_path, generating_latent_copies) == pytest.approx(1.0, abs=1e-6)


def test_mcc_of_noise_is_at_its_permutation_null(tmp_path):
    """A noise layer's MCC lies within the spread of the MCC of row-shuffled latents."""
    observed = mcc_of_layer(tmp_path, lambda latents, rng: rng.standard_normal((len(latents), 12)))
    rng = np.random.default_rng(5)
    z = rng.standard_normal((N_TEST, 12))
    targets = generating_latent_columns(sample_latents(N_TEST, rng))
    null = [mean_correlation_coefficient(z, targets[rng.permutation(N_TEST)]) for _ in range(200)]
    assert abs(observed - np.mean(null)) < 4 * np.std(null)
    assert observed < 0.6
