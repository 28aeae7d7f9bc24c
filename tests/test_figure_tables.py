"""Tests for sslgeom.figures.tables against answers computed by hand or by a direct loop."""

import itertools
import statistics

import numpy as np
import pandas as pd
import pytest
from synthetic_tables import (
    BASE,
    CONVERGENCE_EPOCHS,
    DEPTHS,
    DESIGN,
    HIDDEN_DIMS,
    LATENT_SCORES,
    SIZE_DESIGN,
    STAR_DESIGN,
    STAR_FACTORS,
    STRENGTHS,
    convergence_table,
    expected_gap,
    latent_metrics_table,
    make_examples,
    make_metrics,
    make_projector_sweep,
    make_spectra,
    make_train_logs,
    similarity_table,
)

from sslgeom.config.experiments import Design
from sslgeom.data.shapes import CONTENT_LATENTS, STYLE_LATENTS
from sslgeom.figures import tables as figure_tables


def summary_row(summary: pd.DataFrame, **key) -> pd.Series:
    """The one row of ``summary`` whose columns take the values ``key``."""
    rows = summary.loc[np.logical_and.reduce([summary[c] == v for c, v in key.items()])]
    assert len(rows) == 1, key
    return rows.iloc[0]


def test_summarise_is_the_population_mean_std_and_count():
    table = pd.DataFrame({"strength": [0.5, 0.5, 1.0], "seed": [0, 1, 0], "value": [1, 3, 2]})
    summary = figure_tables.summarise(table, ["strength"], largest=("value", "max"))
    assert summary.columns.tolist() == ["strength", "mean", "std", "n", "largest"]
    assert summary.iloc[0].tolist() == [0.5, 2.0, 1.0, 2, 3]
    assert summary.iloc[1].tolist() == [1.0, 2.0, 0.0, 1, 2]  # a single seed: zero width


def test_metrics_summary_matches_a_loop_over_the_seeds():
    metrics = make_metrics()
    summary = figure_tables.metrics_summary(metrics, DESIGN)
    assert "seed" not in summary and len(summary) == len(metrics) // 2
    for (dataset, strength, layer, metric), rows in metrics.groupby(
        ["dataset", "strength", "layer", "metric"]
    ):
        values = list(rows["value"])
        row = summary_row(summary, dataset=dataset, strength=strength, layer=layer, metric=metric)
        assert row["mean"] == pytest.approx(statistics.fmean(values))
        assert row["std"] == pytest.approx(statistics.pstdev(values))
        assert row["n"] == len(values) == 2


def test_spectra_become_variance_fractions_per_run():
    spectra = pd.DataFrame(
        {
            "strength": [0.5] * 4,
            "seed": [0, 0, 1, 1],
            "layer": ["encoder"] * 4,
            "index": [1, 2, 1, 2],
            "value": [3.0, 4.0, 1.0, 0.0],
        }
    )
    normalised = figure_tables.normalised_spectra(spectra, ["strength", "seed"])
    np.testing.assert_allclose(normalised["value"], [9 / 25, 16 / 25, 1.0, 0.0])
    summary = figure_tables.normalised_spectra_summary(spectra, Design(["strength", "seed"]))
    np.testing.assert_allclose(summary["mean"], [(9 / 25 + 1) / 2, (16 / 25) / 2])
    np.testing.assert_allclose(summary["std"], [(1 - 9 / 25) / 2, (16 / 25) / 2])


def test_every_normalised_spectrum_sums_to_one():
    summary = figure_tables.normalised_spectra_summary(make_spectra(), DESIGN)
    totals = summary.groupby(["dataset", "strength", "layer"])["mean"].sum()
    np.testing.assert_allclose(totals, 1.0)


def test_training_loss_is_averaged_over_seeds_per_epoch():
    logs = make_train_logs()
    summary = figure_tables.train_loss_summary(logs, DESIGN)
    rows = logs.query("dataset == 'shapes' and strength == 0.5 and epoch == 3")
    row = summary_row(summary, dataset="shapes", strength=0.5, epoch=3)
    assert row["mean"] == pytest.approx(rows["loss"].sum() / 2)
    assert row["std"] == pytest.approx(abs(rows["loss"].iloc[0] - rows["loss"].iloc[1]) / 2)


def test_projector_size_takes_each_runs_probe_gap_before_averaging():
    summary = figure_tables.projector_size(make_projector_sweep(), SIZE_DESIGN)
    assert len(summary) == 2 * len(STRENGTHS) * len(DEPTHS) * len(HIDDEN_DIMS) * 2
    for depth in DEPTHS:
        for width in HIDDEN_DIMS:
            key = {"dataset": "shapes", "strength": 1.0, "projector_depth": depth}
            key["projector_hidden_dim"] = width
            gap = summary_row(summary, **key, quantity="probe_gap")
            gaps = [expected_gap(depth, width, 1.0, seed) for seed in (0, 1)]
            assert gap["mean"] == pytest.approx(statistics.fmean(gaps))
            assert gap["std"] == pytest.approx(statistics.pstdev(gaps))
            rank = summary_row(summary, **key, quantity="rankme")
            assert rank["mean"] == pytest.approx(width / 8 * 1.3 / depth) and rank["std"] == 0


def test_run_labels_name_what_sets_a_run_apart():
    labels = figure_tables.run_labels(similarity_table(), STAR_DESIGN)["label"]
    assert {"simclr base s0", "barlow strength=1.0 s1", "simclr optimizer=sgd s0"} <= set(labels)


def test_labelled_similarity_places_runs_in_label_order_and_averages_each_panel():
    similarity = similarity_table()
    pairs = figure_tables.labelled_similarity(similarity, STAR_DESIGN)
    sides = [pairs[[f"run_{side}", f"position_{side}"]].to_numpy() for side in ("a", "b")]
    positions = dict(np.concatenate(sides).tolist())
    # by method and variant ("base" < "optimizer=sgd" < "strength=1.0"), then seed
    order = [2, 3, 10, 11, 6, 7, 0, 1, 8, 9, 4, 5]
    assert sorted(positions, key=positions.get) == [f"run{i}" for i in order]
    row = pairs.query("run_a == 'run0' and run_b == 'run7'").iloc[0]
    assert (row["label_a"], row["label_b"]) == ("simclr base s0", "barlow strength=1.0 s1")
    panel = similarity.query("metric == 'mutual_knn' and layer == 'projector'")
    shown = pairs.query("metric == 'mutual_knn' and layer == 'projector'")
    np.testing.assert_allclose(shown["mean_null"], statistics.fmean(panel["null_mean"]))
    np.testing.assert_allclose(shown["mean_untrained"], statistics.fmean(panel["untrained"]))


def test_mean_linear_r2_averages_both_directions_of_each_pair():
    similarity = similarity_table()
    table = figure_tables.with_mean_linear_r2(similarity)
    pair = similarity.query("run_a == 'run0' and run_b == 'run3' and layer == 'encoder'")
    directions = pair.set_index("metric")
    mean = table.query("run_a == 'run0' and run_b == 'run3' and layer == 'encoder'")
    mean = mean.query("metric == 'linear_r2'").iloc[0]
    for column in ("value", "untrained"):
        ab, ba = directions.loc["linear_r2_ab", column], directions.loc["linear_r2_ba", column]
        assert mean[column] == pytest.approx((ab + ba) / 2)
    assert np.isnan(mean["null_q95"])


def test_seed_only_pairs_are_the_base_settings_seed_pairs():
    kinds = figure_tables.factor_pair_kinds(similarity_table(), "strength", STAR_DESIGN)
    seed_pairs = kinds["seed only"]
    # one seed pair per method at the base (the strength and optimizer variants are left out)
    assert set(zip(seed_pairs["run_a"], seed_pairs["run_b"], strict=True)) == {
        ("run0", "run1"),
        ("run2", "run3"),
    }
    untrained = kinds["seed only, untrained"]
    assert untrained["value"].to_numpy() == pytest.approx(seed_pairs["untrained"].to_numpy())
    assert untrained["null_q95"].isna().all()
    assert set(kinds["factor only"]["differs_in"]) == {"strength"}
    assert set(kinds["factor + seed"]["differs_in"]) == {"strength+seed"}


def test_similarity_by_pair_kind_averages_the_pairs_of_each_kind():
    similarity = similarity_table()
    bars = figure_tables.similarity_by_pair_kind(similarity, STAR_DESIGN)
    assert set(bars["factor"]) == {"method", "strength", "optimizer"}
    knn = similarity.query("metric == 'mutual_knn' and layer == 'encoder'")
    seed_pairs = knn[knn["run_a"].isin(["run0", "run2"]) & (knn["differs_in"] == "seed")]
    strength_pairs = knn[knn["differs_in"] == "strength"]
    expected = {
        "seed only": (seed_pairs["value"], seed_pairs["null_q95"].mean()),
        "seed only, untrained": (seed_pairs["untrained"], np.nan),
        "factor only": (strength_pairs["value"], strength_pairs["null_q95"].mean()),
    }
    for kind, (values, null) in expected.items():
        key = {"factor": "strength", "pair_kind": kind, "metric": "mutual_knn", "layer": "encoder"}
        bar = summary_row(bars, **key)
        assert bar["mean"] == pytest.approx(statistics.fmean(values))
        assert bar["std"] == pytest.approx(statistics.pstdev(values))
        assert bar["n"] == len(values)
        assert bar["mean_null_q95"] == pytest.approx(null, nan_ok=True)


def test_similarity_by_pair_kind_without_a_varied_factor_is_empty():
    seeds_only = similarity_table().query("differs_in == 'seed'")
    bars = figure_tables.similarity_by_pair_kind(seeds_only, STAR_DESIGN)
    assert bars.empty
    assert {"factor", "pair_kind", "metric", "layer", "mean", "std", "mean_null_q95"} <= set(bars)


def test_latent_recovery_averages_each_group_over_seeds_at_the_base_setting():
    recovery = figure_tables.latent_recovery(latent_metrics_table(), STAR_DESIGN)
    assert set(recovery["optimizer"]) == {BASE["optimizer"]}  # the optimizer variant is left out
    assert set(recovery["strength"]) == {0.5, 1.0}  # the strength is free
    style = [LATENT_SCORES[f"latent_r2_kernel_{latent}"] for latent in STYLE_LATENTS]
    content = [LATENT_SCORES[f"latent_r2_{latent}"] for latent in CONTENT_LATENTS]
    expected = {
        ("kernel R²", "style", "encoder"): statistics.fmean(style),
        ("linear R²", "content", "projector"): statistics.fmean(content) + 0.02,
        ("MCC", "style", "proj1"): LATENT_SCORES["mcc"] + 0.01,
    }
    for (score, group, layer), value in expected.items():
        key = {"score": score, "group": group, "layer": layer, "method": "barlow", "strength": 1.0}
        row = summary_row(recovery, **key)
        assert row["mean"] == pytest.approx(value + 0.2 + 0.05)  # barlow; seeds add 0 and 0.1
        assert row["std"] == pytest.approx(0.05) and row["n"] == 2


def test_convergence_summary_averages_seeds_at_the_base_setting():
    summary = figure_tables.convergence_summary(convergence_table(), STAR_DESIGN)
    assert set(summary["optimizer"]) == {BASE["optimizer"]}
    assert set(summary["strength"]) == {BASE["strength"]}
    for epoch in CONVERGENCE_EPOCHS:
        key = {"method": "simclr", "metric": "debiased_cka", "layer": "projector", "epoch": epoch}
        final = summary_row(summary, **key, comparison="to_final")
        assert final["mean"] == pytest.approx(epoch / 4 + 0.05)
        assert final["std"] == pytest.approx(0.05) and final["n"] == 2
        across = summary_row(summary, **key, comparison="across_seeds")
        assert across["mean"] == pytest.approx(0.3 + 0.05)
    np.testing.assert_allclose(summary["mean_null_q95"], 0.01 * statistics.fmean([1, 2, 4]))


def test_base_setting_is_the_configs_base_and_a_crossed_factors_first_value():
    metrics = latent_metrics_table()
    assert STAR_DESIGN.base_values(metrics, STAR_FACTORS[1:]) == {
        "method": "barlow",  # crossed, so no base: the first value in sorted order
        "strength": 0.5,
        "seed": 0,
        "optimizer": "adamw",
    }
    kept = figure_tables.at_base(metrics, STAR_DESIGN, free=("method", "seed"))
    assert set(kept["strength"]) == {0.5} and set(kept["optimizer"]) == {"adamw"}
    assert set(kept["method"]) == {"simclr", "barlow"} and set(kept["seed"]) == {0, 1}
    assert set(kept["base_setting"]) == {"strength = 0.5, optimizer = adamw"}


def test_a_tied_varied_factor_takes_the_base_the_config_names_not_a_mode():
    # one variant per value of a single varied factor: as many runs at the base as at each
    # variant, so only the config tells which value is the base
    metrics = pd.DataFrame(
        {"optimizer": ["adamw", "sgd", "lion"], "seed": 0, "layer": "encoder", "value": 1.0}
    )
    design = Design(["seed", "optimizer"], base={"optimizer": "sgd"})
    kept = figure_tables.at_base(metrics, design, free=("seed",))
    assert kept["optimizer"].tolist() == ["sgd"]


def test_augmentation_examples_round_trip(tmp_path):
    examples = make_examples()
    path = tmp_path / "augmentations.npz"
    figure_tables.save_augmentation_examples(examples, path)
    loaded = figure_tables.load_augmentation_examples(path)
    assert list(loaded) == list(examples)
    for dataset, views in examples.items():
        assert list(loaded[dataset]) == sorted(views)
        for strength, batch in views.items():
            np.testing.assert_array_equal(loaded[dataset][strength], batch)


# --------------------------------------------------------------------------- controls

CONTROL_FACTORS = ["dataset", "method", "strength", "seed", "resampled_latents"]
CONTROL_DESIGN = Design(CONTROL_FACTORS, crossed=["resampled_latents"])
POSITION, HUE = "pos_x-pos_y", "object_hue-background_hue"
CONTROL_RUN = {"dataset": "shapes", "method": "simclr", "strength": 0.0}
# (resampled latents, layer, metric) → the values of seeds 0 and 1
RECOVERY_VALUES = {
    (POSITION, "encoder", "probe_acc"): (0.8, 0.9),
    (POSITION, "encoder", "latent_r2_pos_x"): (0.6, 0.4),
    (POSITION, "encoder", "latent_r2_object_hue"): (0.7, 0.7),
    (POSITION, "projector", "probe_acc"): (0.9, 0.7),
    (POSITION, "projector", "latent_r2_pos_x"): (0.1, 0.3),
    (POSITION, "projector", "latent_r2_object_hue"): (0.5, 0.9),
    (HUE, "encoder", "probe_acc"): (0.6, 0.6),
    (HUE, "encoder", "latent_r2_pos_x"): (0.8, 0.6),
    (HUE, "encoder", "latent_r2_object_hue"): (0.3, 0.5),
    (HUE, "projector", "probe_acc"): (0.95, 0.85),
    (HUE, "projector", "latent_r2_pos_x"): (0.9, 0.7),
    (HUE, "projector", "latent_r2_object_hue"): (0.0, 0.2),
}
# metrics of every run and layer that are not the class accuracy or a linear R²
OTHER_METRICS = {"latent_r2_kernel_pos_x": (0.99, 0.97), "knn_acc": (0.5, 0.4)}
# (resampled latents, layer, quantity) → mean, std (ddof 0) over the two seeds, resampled
EXPECTED_RECOVERY = {
    (POSITION, "encoder", "class accuracy"): (0.85, 0.05, False),
    (POSITION, "encoder", "pos_x"): (0.5, 0.1, True),
    (POSITION, "encoder", "object_hue"): (0.7, 0.0, False),
    (POSITION, "projector", "class accuracy"): (0.8, 0.1, False),
    (POSITION, "projector", "pos_x"): (0.2, 0.1, True),
    (POSITION, "projector", "object_hue"): (0.7, 0.2, False),
    (HUE, "encoder", "class accuracy"): (0.6, 0.0, False),
    (HUE, "encoder", "pos_x"): (0.7, 0.1, False),
    (HUE, "encoder", "object_hue"): (0.4, 0.1, True),
    (HUE, "projector", "class accuracy"): (0.9, 0.05, False),
    (HUE, "projector", "pos_x"): (0.8, 0.1, False),
    (HUE, "projector", "object_hue"): (0.1, 0.1, True),
}


def control_metrics() -> pd.DataFrame:
    """A latent-views metrics table of two resampled-latent choices and two seeds."""
    values = dict(RECOVERY_VALUES)
    for choice, layer in itertools.product((POSITION, HUE), ("encoder", "projector")):
        values |= {(choice, layer, metric): pair for metric, pair in OTHER_METRICS.items()}
    rows = [
        CONTROL_RUN
        | {"seed": seed, "resampled_latents": choice, "layer": layer, "metric": metric}
        | {"value": value}
        for (choice, layer, metric), pair in values.items()
        for seed, value in enumerate(pair)
    ]
    return pd.DataFrame(rows)


def test_controls_latent_recovery_is_class_accuracy_and_linear_r2_over_seeds():
    recovery = figure_tables.controls_latent_recovery(control_metrics(), CONTROL_DESIGN)
    assert recovery.columns.tolist() == [
        "dataset",
        "method",
        "strength",
        "resampled_latents",
        "layer",
        "quantity",
        "mean",
        "std",
        "n",
        "resampled",
    ]
    # the kernel R² and the k-NN accuracy are left out
    assert set(recovery["quantity"]) == {"class accuracy", "pos_x", "object_hue"}
    keys = zip(recovery["resampled_latents"], recovery["layer"], recovery["quantity"], strict=True)
    assert sorted(keys) == sorted(EXPECTED_RECOVERY)
    for (choice, layer, quantity), (mean, std, resampled) in EXPECTED_RECOVERY.items():
        key = {"resampled_latents": choice, "layer": layer, "quantity": quantity}
        row = summary_row(recovery, **key)
        assert row["mean"] == pytest.approx(mean)
        assert row["std"] == pytest.approx(std)
        assert row["n"] == 2
        assert bool(row["resampled"]) is resampled, key


# seed 0's value of each metric of the vectors runs (seed 1 adds 0.1)
VECTORS_VALUES = {"latent_r2_z0": 0.5, "latent_r2_z1": 0.6, "mcc": 0.7, "latent_r2_kernel_z0": 0.9}


def test_controls_latent_recovery_without_resampled_latents_marks_nothing_resampled():
    """The vectors runs: no resampled_latents column, latents z0, z1, …"""
    rows = [
        {"dataset": dataset, "method": "simclr", "strength": 0.0, "seed": seed}
        | {"layer": layer, "metric": metric, "value": value + seed / 10}
        for dataset, seed, layer in itertools.product(
            ("vectors", "vectors_box"), (0, 1), ("encoder", "projector")
        )
        for metric, value in VECTORS_VALUES.items()
    ]
    recovery = figure_tables.controls_latent_recovery(pd.DataFrame(rows), CONTROL_DESIGN)
    assert "resampled_latents" not in recovery
    assert len(recovery) == 2 * 2 * 2  # datasets × layers × (z0, z1)
    assert set(recovery["quantity"]) == {"z0", "z1"}
    assert recovery["resampled"].dtype == bool and not recovery["resampled"].any()
    row = summary_row(recovery, dataset="vectors_box", layer="encoder", quantity="z1")
    assert (row["mean"], row["std"], row["n"]) == (pytest.approx(0.65), pytest.approx(0.05), 2)


def test_resampled_by_views_reads_each_rows_own_choice():
    table = pd.DataFrame({"resampled_latents": [POSITION, POSITION, HUE, "scale", np.nan]})
    quantities = pd.Series(["pos_y", "object_hue", "object_hue", "scale", "scale"])
    flags = figure_tables.resampled_by_views(table, quantities)
    assert flags.tolist() == [True, False, True, True, False]
    # a latent name is matched whole: pos is not pos_x
    pos = figure_tables.resampled_by_views(table.iloc[:1], pd.Series(["pos"]))
    assert pos.tolist() == [False]


# family and metric codes make each geometry row's value tell where it came from
FAMILY_CODES = {"latent:pos_x": 1, "latent:scale": 2, "style": 3, "data": 4}
METRIC_CODES = {"sensitivity": 10, "sensitivity_minus_random_span": 20}
METRIC_CODES["sensitivity_minus_random"] = 30
CHOICE_CODES = {POSITION: 100, HUE: 200}
SEED_OFFSETS = (0.0, 0.5)  # mean 0.25, std 0.25


def control_geometry() -> pd.DataFrame:
    rows = [
        CONTROL_RUN
        | {"seed": seed, "resampled_latents": choice, "family": family, "metric": metric}
        | {"value": CHOICE_CODES[choice] + FAMILY_CODES[family] + METRIC_CODES[metric] + offset}
        for choice, (seed, offset), family, metric in itertools.product(
            CHOICE_CODES, enumerate(SEED_OFFSETS), FAMILY_CODES, METRIC_CODES
        )
    ]
    return pd.DataFrame(rows)


def test_controls_tangent_sensitivity_keeps_the_latent_families_differences():
    table = figure_tables.controls_tangent_sensitivity(control_geometry(), CONTROL_DESIGN)
    assert {"latent", "metric", "mean", "std", "n", "resampled"} <= set(table)
    assert "family" not in table and "seed" not in table
    assert set(table["latent"]) == {"pos_x", "scale"}
    assert set(table["metric"]) == {"sensitivity_minus_random_span", "sensitivity_minus_random"}
    assert len(table) == 2 * 2 * 2  # choices × latents × metrics
    row = summary_row(
        table, resampled_latents=POSITION, latent="pos_x", metric="sensitivity_minus_random_span"
    )
    assert (row["mean"], row["std"], row["n"]) == (pytest.approx(121.25), pytest.approx(0.25), 2)
    assert bool(row["resampled"])
    row = summary_row(
        table, resampled_latents=HUE, latent="scale", metric="sensitivity_minus_random"
    )
    assert row["mean"] == pytest.approx(232.25) and not row["resampled"]
    # pos_x is resampled by the position choice only; scale by neither
    flags = {
        (choice, latent): bool(flag)
        for choice, latent, flag in zip(
            table["resampled_latents"], table["latent"], table["resampled"], strict=True
        )
    }
    assert flags == {
        (POSITION, "pos_x"): True,
        (POSITION, "scale"): False,
        (HUE, "pos_x"): False,
        (HUE, "scale"): False,
    }


def test_geometry_summary_leaves_out_the_single_latent_families():
    summary = figure_tables.geometry_summary(control_geometry(), CONTROL_DESIGN)
    assert set(summary["family"]) == {"style", "data"}
    assert set(summary["metric"]) == set(METRIC_CODES)
    row = summary_row(summary, resampled_latents=POSITION, family="style", metric="sensitivity")
    assert (row["mean"], row["std"], row["n"]) == (pytest.approx(113.25), pytest.approx(0.25), 2)


def test_setting_similarity_averages_the_pairs_of_each_pair_of_settings():
    similarity = similarity_table()
    similarity.loc[similarity.index % 3 == 0, "p_value"] = 0.5  # a third not above the null
    cells = figure_tables.setting_similarity(similarity, STAR_DESIGN)
    variant = figure_tables.run_labels(similarity, STAR_DESIGN).set_index("run")["variant"]
    cka = similarity[(similarity["metric"] == "linear_cka") & (similarity["layer"] == "encoder")]
    for setting_a, setting_b in [("simclr base", "simclr base"), ("simclr base", "barlow base")]:
        values, untrained, significant = [], [], []
        for _, pair in cka.iterrows():
            if {variant[pair["run_a"]], variant[pair["run_b"]]} == {setting_a, setting_b}:
                values.append(pair["value"])
                untrained.append(pair["untrained"])
                significant.append(pair["p_value"] <= 0.05)
        cell = cells[
            (cells["metric"] == "linear_cka")
            & (cells["layer"] == "encoder")
            & (cells[["setting_a", "setting_b"]].apply(set, axis=1) == {setting_a, setting_b})
        ]
        assert len(cell) == 1
        assert cell["n"].item() == len(values) > 0
        assert cell["mean"].item() == pytest.approx(statistics.mean(values))
        assert cell["std"].item() == pytest.approx(statistics.pstdev(values))
        assert cell["mean_untrained"].item() == pytest.approx(statistics.mean(untrained))
        assert cell["share_above_null"].item() == pytest.approx(statistics.mean(significant))
    assert (cells["position_a"] <= cells["position_b"]).all()
    r2 = cells[cells["metric"] == "linear_r2"]
    assert len(r2) > 0 and r2["share_above_null"].isna().all()


def test_a_model_trained_elsewhere_is_labelled_without_a_method():
    similarity = similarity_table()
    for side in "ab":
        external = similarity[f"run_{side}"] == "run0"
        similarity[f"model_{side}"] = np.where(external, "their_net", "pipeline")
    design = Design([*STAR_FACTORS, "model"], STAR_DESIGN.base | {"model": "pipeline"}, ["method"])
    labels = figure_tables.run_labels(similarity, design).set_index("run")
    assert labels.loc["run0", "label"] == "model=their_net s0"
    assert labels.loc["run1", "label"] == "simclr base s1"


def crossed_similarity() -> pd.DataFrame:
    """:func:`similarity_table` with a second backbone crossed with every run: each run of the
    star design once with a ResNet and once with a ViT."""
    star = similarity_table()
    runs = {run for side in "ab" for run in star[f"run_{side}"]}
    rows = []
    for backbone_a, backbone_b in [("resnet", "resnet"), ("vit", "vit"), ("resnet", "vit")]:
        pairs = star.assign(backbone_a=backbone_a, backbone_b=backbone_b)
        pairs["run_a"] = pairs["run_a"] + "_" + backbone_a
        pairs["run_b"] = pairs["run_b"] + "_" + backbone_b
        if backbone_a != backbone_b:
            pairs["differs_in"] = (pairs["differs_in"] + "+backbone").str.lstrip("+")
        rows.append(pairs)
    assert len(runs) == 12
    return pd.concat(rows, ignore_index=True)


def test_a_crossed_factor_is_named_in_every_label_and_free_in_the_seed_baseline():
    similarity = crossed_similarity()
    factors = [*STAR_FACTORS, "backbone"]
    design = Design(factors, STAR_DESIGN.base, crossed=["method", "backbone"])
    labels = figure_tables.run_labels(similarity, design).set_index("run")["label"]
    assert labels["run0_resnet"] == "simclr backbone=resnet s0"
    assert labels["run0_vit"] == "simclr backbone=vit s0"
    baseline = similarity[figure_tables.base_seed_pairs(similarity, design)]
    # the base setting's seed pairs of both backbones, never a pair across backbones
    assert set(baseline["backbone_a"]) == {"resnet", "vit"}
    assert (baseline["backbone_a"] == baseline["backbone_b"]).all()
    star_baseline = figure_tables.base_seed_pairs(similarity_table(), STAR_DESIGN).sum()
    assert len(baseline) == 2 * star_baseline
