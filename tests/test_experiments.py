"""Experiment grids: points, run ids, per-run settings and factor columns."""

import pytest

from sslgeom.config.experiments import (
    Design,
    experiment_design,
    experiment_runs,
    factor_columns,
    factor_values,
    format_value,
    grid_points,
    run_id,
    settings_besides,
    variants,
)

EXPERIMENT = {
    "grid": {"dataset": ["shapes", "mnist5k"], "strength": [0.0, 0.5, 1.0], "seed": [0, 1]},
    "settings": {"method": "simclr", "epochs": 2, "encoder_blocks": [1, 1]},
}


def test_grid_points_is_the_cartesian_product_in_written_order():
    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    assert all(list(point) == ["a", "b"] for point in points)


def test_grid_points_count_is_the_product_of_lengths():
    assert len(grid_points(EXPERIMENT["grid"])) == 2 * 3 * 2


def test_grid_points_of_single_values_is_one_point():
    assert grid_points({"seed": [3]}) == [{"seed": 3}]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.5, "0.5"), (1.0, "1"), (0.0, "0"), (1e-4, "0.0001"), (3, "3"), ("shapes", "shapes")],
)
def test_format_value_scalars(value, text):
    assert format_value(value) == text


def test_format_value_joins_lists_with_dashes():
    assert format_value([2, 2, 1]) == "2-2-1"
    assert format_value([0.5, 1.0]) == "0.5-1"


def test_run_id_formatting():
    assert run_id({"dataset": "shapes", "strength": 0.5, "seed": 0}) == (
        "dataset~shapes/strength~0.5/seed~0"
    )
    assert run_id({"encoder_blocks": [1, 1], "lr": 1.0}) == "encoder_blocks~1-1/lr~1"


def test_experiment_runs_merges_settings_with_the_point():
    runs = experiment_runs(EXPERIMENT)
    assert len(runs) == 12
    settings = runs["dataset~mnist5k/strength~1/seed~1"]
    assert settings == {
        "method": "simclr",
        "epochs": 2,
        "strength": 1.0,
        "encoder_blocks": [1, 1],
        "dataset": "mnist5k",
        "seed": 1,
    }
    assert list(runs)[0] == "dataset~shapes/strength~0/seed~0"


def test_experiment_runs_without_settings():
    assert experiment_runs({"grid": {"seed": [0, 1]}}) == {
        "seed~0": {"seed": 0},
        "seed~1": {"seed": 1},
    }


def test_factor_columns_put_reported_factors_first_then_swept_extras():
    experiment = {"grid": {"lr": [0.1, 0.2], "seed": [0], "encoder_blocks": [[1], [1, 1]]}}
    assert factor_columns(experiment) == [
        "dataset",
        "method",
        "strength",
        "seed",
        "lr",
        "encoder_blocks",
    ]


def test_factor_columns_of_reported_factors_only():
    assert factor_columns(EXPERIMENT) == ["dataset", "method", "strength", "seed"]


def test_factor_values_formats_lists_and_keeps_scalars():
    settings = {"dataset": "shapes", "strength": 0.5, "seed": 0, "encoder_blocks": [1, 2]}
    values = factor_values(settings, ["dataset", "strength", "seed", "encoder_blocks"])
    assert values == {"dataset": "shapes", "strength": 0.5, "seed": 0, "encoder_blocks": "1-2"}
    assert list(values) == ["dataset", "strength", "seed", "encoder_blocks"]
    assert isinstance(values["strength"], float)


STAR = {
    "grid": {"method": ["simclr", "vicreg"], "seed": [0, 1]},
    "settings": {"strength": 0.5, "optimizer": "adamw", "lr": 0.002},
    "vary": {"strength": [1.0], "optimizer": [{"optimizer": "sgd", "lr": 0.05}]},
}


def test_vary_crosses_the_base_and_each_variant_with_the_grid():
    runs = experiment_runs(STAR)
    assert len(runs) == (1 + 2) * 4
    assert list(runs)[0] == "strength~0.5/optimizer~adamw/method~simclr/seed~0"
    assert runs["strength~1/optimizer~adamw/method~vicreg/seed~1"] == {
        "strength": 1.0,
        "optimizer": "adamw",
        "lr": 0.002,
        "method": "vicreg",
        "seed": 1,
    }
    coupled = runs["strength~0.5/optimizer~sgd/method~simclr/seed~0"]
    assert (coupled["optimizer"], coupled["lr"], coupled["strength"]) == ("sgd", 0.05, 0.5)


def test_variants_lists_the_base_first_then_each_value():
    assert variants(STAR) == [
        (None, {}),
        (("strength", 0), {"strength": 1.0}),
        (("optimizer", 0), {"optimizer": "sgd", "lr": 0.05}),
    ]


def test_factor_columns_include_varied_factors():
    assert factor_columns(STAR) == ["dataset", "method", "strength", "seed", "optimizer"]


def test_design_names_the_varied_factors_base_and_the_crossed_grid_factors():
    experiment = {
        "grid": {"method": ["simclr", "vicreg"], "strength": [0.5], "seed": [0, 1]},
        "vary": {"optimizer": ["sgd"], "projector_dims": [[64, 8]]},
        "settings": {"optimizer": "adamw", "projector_dims": [128, 32], "lr": 0.1},
    }
    assert experiment_design(experiment) == Design(
        factors=["dataset", "method", "strength", "seed", "optimizer", "projector_dims"],
        base={"optimizer": "adamw", "projector_dims": "128-32"},
        crossed=["method"],
    )


def test_log_line_names_the_settings_that_the_run_id_does_not_and_that_differ_from_defaults():
    settings = {"dataset": "shapes", "seed": 1, "lr": 0.1, "epochs": 13, "dims": [64, 8]}
    defaults = {"lr": 0.1, "epochs": 100, "seed": 0}
    assert (
        settings_besides("exp/dataset~shapes/seed~1", settings, defaults) == "epochs=13 dims=64-8"
    )
