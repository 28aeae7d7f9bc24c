"""Claims: intervals against closed forms, verdicts on planted effects, their mirror images and
pure noise, and the test-set resamples against the metrics they resample."""

import itertools
import math
import subprocess
import sys
import tracemalloc
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sslgeom.claims.experiment import claim_rows, claims_markdown, resamples_of_group
from sslgeom.claims.identifiability import crossed_factor_claims
from sslgeom.claims.multiplicity import benjamini_hochberg, holm, with_multiplicity
from sslgeom.claims.resampling import (
    accuracy_resamples,
    invariance_resamples,
    rankme_resamples,
    resample_counts,
)
from sslgeom.claims.rule import (
    TWO_SIDED,
    Claim,
    assess,
    jackknife_se,
    mean_over_seeds,
    pair_mean,
    seeds_needed,
    slope,
    verdict,
)
from sslgeom.config.experiments import Design
from sslgeom.metrics.invariance import invariance
from sslgeom.metrics.spectrum import rankme

SEEDS = [0, 1, 2, 3, 4]
STRENGTHS = [0.0, 0.25, 0.5, 1.0]
DESIGN = Design(["dataset", "method", "strength", "seed"], crossed=["strength"])
OPTIONS = {"confidence": 0.95, "similarity_metrics": ["debiased_cka"]}
CLAIM = Claim("X", "an effect", +1, "a paper")
EITHER_WAY = Claim("Y", "an effect of either sign", TWO_SIDED, "exploratory")


# --- intervals and verdicts -----------------------------------------------------------------


def test_mean_of_seeds_gets_the_student_t_interval():
    values = {0: 1.0, 1: 1.6, 2: 0.7, 3: 1.2}
    row = assess(CLAIM, mean_over_seeds(values.get), list(values), confidence=0.9)
    sample = np.array(list(values.values()))
    low, high = stats.t.interval(0.9, 3, loc=sample.mean(), scale=stats.sem(sample))
    assert row["estimate"] == pytest.approx(sample.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert row["verdict"] == "supported" and row["n_seeds"] == 4


def test_jackknife_of_a_mean_is_its_standard_error():
    values = {seed: float(seed**2) for seed in range(6)}
    effect = mean_over_seeds(values.get)
    expected = np.std(list(values.values()), ddof=1) / math.sqrt(6)
    assert jackknife_se(lambda seeds: float(effect(seeds)), values) == pytest.approx(expected)


def test_pair_jackknife_drops_every_pair_of_the_left_out_seed():
    """Three seeds: leaving seed i out leaves the one pair without i."""
    values = {(0, 1): 1.0, (0, 2): 2.0, (1, 2): 6.0}
    leave_one_out = np.array([6.0, 2.0, 1.0])  # without 0, 1, 2
    expected = math.sqrt(2 / 3 * np.sum((leave_one_out - leave_one_out.mean()) ** 2))
    assert jackknife_se(pair_mean(values), [0, 1, 2]) == pytest.approx(expected)


def test_test_set_resamples_widen_the_interval_in_quadrature():
    per_seed = {0: 1.0, 1: 2.0, 2: 3.0}
    noise = np.random.default_rng(0).standard_normal(2000)

    def effect(seeds):
        mean = np.mean([per_seed[s] for s in seeds])
        return np.concatenate([[mean], mean + 0.5 * noise])

    row = assess(CLAIM, effect, [0, 1, 2], confidence=0.95)
    se_seed, se_test = 1 / math.sqrt(3), np.std(0.5 * noise, ddof=1)
    se = math.hypot(se_seed, se_test)
    # Welch–Satterthwaite: se_seed² has 2 degrees of freedom, the bootstrap's se_test² infinitely
    # many: se⁴ / (se_seed⁴ / 2)
    dof = se**4 / (se_seed**4 / 2)
    assert row["dof"] == pytest.approx(dof)
    assert row["ci_high"] - row["estimate"] == pytest.approx(stats.t.ppf(0.975, dof) * se)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(2 / se, dof))


@pytest.mark.parametrize(
    "low, high, direction, expected",
    [
        (0.1, 0.3, +1, "supported"),
        (-0.3, -0.1, +1, "contradicted"),
        (-0.3, -0.1, -1, "supported"),
        (-0.1, 0.3, +1, "inconclusive"),
        (0.0, 0.3, +1, "inconclusive"),
        (float("nan"), float("nan"), +1, "inconclusive"),
        (0.1, 0.3, TWO_SIDED, "supported"),
        (-0.3, -0.1, TWO_SIDED, "supported"),
        (-0.1, 0.3, TWO_SIDED, "inconclusive"),
    ],
)
def test_verdict(low, high, direction, expected):
    assert verdict(low, high, direction) == expected


def test_one_seed_is_inconclusive():
    row = assess(CLAIM, mean_over_seeds({0: 5.0}.get), [0], confidence=0.95)
    assert row["verdict"] == "inconclusive" and math.isnan(row["ci_low"])


def test_slope_of_a_line():
    assert slope([0.25, 0.5, 1.0], np.array([3.0, 2.5, 1.5])) == pytest.approx(-2.0)


def planted_experiments(n_experiments, n_seeds, seed_sd, shared_sd, run_sd, rng):
    """Experiments of n_seeds runs scored on one test set of 400 images: per-image values are a
    shared image effect (sd ``shared_sd`` per image) plus each run's own (``run_sd``), and each
    run adds its seed's offset (sd ``seed_sd``); the true effect, the mean over runs and images,
    is 0. Yields (seed → per-image values) per experiment."""
    for _ in range(n_experiments):
        shared = shared_sd * rng.standard_normal(400)
        runs = seed_sd * rng.standard_normal((n_seeds, 1)) + run_sd * rng.standard_normal(
            (n_seeds, 400)
        )
        yield dict(enumerate(shared + runs))


def coverage(rule, regime: dict, rng) -> float:
    """How often the 95% interval of the mean over seeds covers the true effect (0), each run's
    value its mean over the test images and the test set resampled as the pipeline does (the
    same image draws for every run)."""
    counts = resample_counts(400, 200, seed=1)
    covered = []
    for per_image in planted_experiments(2000, 3, **regime, rng=rng):
        resampled = {
            seed: np.concatenate([[v.mean()], counts @ v / 400]) for seed, v in per_image.items()
        }
        row = rule(mean_over_seeds(resampled.get), list(resampled))
        covered.append(row["ci_low"] <= 0 <= row["ci_high"])
    return float(np.mean(covered))


@pytest.mark.parametrize(
    "regime",
    [
        {"seed_sd": 1.0, "shared_sd": 0.0, "run_sd": 0.0},  # seeds alone
        {"seed_sd": 0.1, "shared_sd": 1.0, "run_sd": 0.0},  # the test set dominates
        {"seed_sd": 0.05, "shared_sd": 1.0, "run_sd": 0.5},  # balanced, runs' own image noise
        {"seed_sd": 0.0, "shared_sd": 1.0, "run_sd": 0.0},  # the test set alone
    ],
    ids=["seeds", "test set", "balanced", "test set alone"],
)
def test_the_95_percent_interval_covers_a_planted_effect_95_percent_of_the_time(regime):
    rate = coverage(
        lambda effect, seeds: assess(CLAIM, effect, seeds, 0.95), regime, np.random.default_rng(20)
    )
    assert 0.93 <= rate <= 0.975, rate


def test_two_sided_p_value_is_below_alpha_exactly_when_the_interval_excludes_zero():
    rng = np.random.default_rng(21)
    for _ in range(200):
        values = dict(enumerate(rng.normal(0.5, 1.0, 3)))
        row = assess(EITHER_WAY, mean_over_seeds(values.get), list(values), 0.95)
        assert (row["p_value"] < 0.05) == (row["verdict"] == "supported")


def test_seeds_needed_is_the_fewest_at_which_the_interval_excludes_zero():
    estimate, se_seed, se_test = 0.3, 0.25, 0.02  # 3 seeds: one seed's sd 0.25·√3
    found = seeds_needed(estimate, se_seed, se_test, 3, 0.95)

    def decided(n):  # by hand: the seeds' standard error at n seeds, the Welch–Satterthwaite t
        se_n = se_seed * math.sqrt(3 / n)
        se = math.hypot(se_n, se_test)
        return estimate > stats.t.ppf(0.975, se**4 / (se_n**4 / (n - 1))) * se

    assert decided(found) and not decided(found - 1)
    assert math.isnan(seeds_needed(0.03, 0.25, 0.02, 3, 0.95)), "the test set alone keeps it open"


def test_runs_needed_are_the_experiments_runs_at_that_many_seeds():
    rng = np.random.default_rng(22)
    claims = claim_rows(
        {"metrics": metrics_table(-4.0, 3.0, rng, seeds=[0, 1, 2])}, DESIGN, OPTIONS
    )
    open_claims = claims[claims["seeds_needed"].notna()]
    assert len(open_claims) > 0 and (open_claims["verdict"] == "inconclusive").all()
    runs_per_seed = len(STRENGTHS)  # one dataset and method, every strength
    assert (open_claims["runs_needed"] == open_claims["seeds_needed"] * runs_per_seed).all()


def test_holm_and_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, then the running maximum
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    # sorted times 4/1, 4/2, 4/3, 4/4: 0.02, 0.02, 0.04, 0.04, then the minimum from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])


def test_holm_and_benjamini_hochberg_against_their_definitions():
    p = np.random.default_rng(23).uniform(0, 0.2, 30)
    m, order = len(p), np.argsort(p)
    holm_loop, bh_loop = np.empty(m), np.empty(m)
    for rank, index in enumerate(order):
        holm_loop[index] = min(1, max((m - j) * p[order[j]] for j in range(rank + 1)))
        bh_loop[index] = min(1, min(m * p[order[j]] / (j + 1) for j in range(rank, m)))
    np.testing.assert_allclose(holm(p), holm_loop)
    np.testing.assert_allclose(benjamini_hochberg(p), bh_loop)


def test_multiplicity_is_per_claim_id_and_skips_claims_without_a_p_value():
    claims = pd.DataFrame(
        {
            "claim": ["I2", "I2", "I2", "C1", "C1"],
            "p_value": [0.01, 0.02, np.nan, 0.02, 0.5],
            "verdict": ["supported", "supported", "inconclusive", "contradicted", "inconclusive"],
            "confidence": 0.95,
        }
    )
    adjusted = with_multiplicity(claims)
    assert adjusted["family_size"].tolist() == [2, 2, 2, 2, 2]
    np.testing.assert_allclose(adjusted["p_holm"], [0.02, 0.02, np.nan, 0.04, 0.5])
    assert adjusted["verdict_holm"].tolist() == [
        "supported",
        "supported",
        "inconclusive",
        "contradicted",
        "inconclusive",
    ]
    np.testing.assert_allclose(adjusted["q_bh"], [0.02, 0.02, np.nan, 0.04, 0.5])


# --- claims on constructed tables -----------------------------------------------------------


def metrics_table(rankme_slope: float, noise: float, rng, seeds=SEEDS) -> pd.DataFrame:
    """One dataset: at the encoder and projector, invariance_ref, probe_acc and rankme, with the
    projector's rankme = 30 + rankme_slope · s + noise; everything else flat."""
    rows = []
    for seed, strength, layer in itertools.product(seeds, STRENGTHS, ("encoder", "projector")):
        rank = 30 + rankme_slope * strength + noise * rng.standard_normal()
        values = {"invariance_ref": 0.5, "probe_acc": 0.9, "rankme": rank}
        if layer == "encoder":
            values["rankme"] = 40.0
        for metric, value in values.items():
            run = {"dataset": "d", "method": "simclr", "strength": strength, "seed": seed}
            rows.append(run | {"layer": layer, "metric": metric, "value": value})
    return pd.DataFrame(rows)


def rank_claim(metrics: pd.DataFrame) -> dict:
    claims = claim_rows({"metrics": metrics}, DESIGN, OPTIONS)
    return claims[claims["claim"] == "C3"].iloc[0].to_dict()


def test_planted_falling_rank_is_supported_and_its_mirror_contradicted():
    rng = np.random.default_rng(0)
    falling = rank_claim(metrics_table(-10.0, 1.0, rng))
    assert falling["verdict"] == "supported"
    assert falling["estimate"] == pytest.approx(-10.0, abs=1.5)
    assert rank_claim(metrics_table(+10.0, 1.0, rng))["verdict"] == "contradicted"


def test_noise_is_inconclusive_at_the_confidence_level():
    """No effect, normal noise: the t interval errs (supported or contradicted) in 5% of draws."""
    rng = np.random.default_rng(1)
    draws = 400
    verdicts = [rank_claim(metrics_table(0.0, 1.0, rng))["verdict"] for _ in range(draws)]
    wrong = np.mean([v != "inconclusive" for v in verdicts])
    assert wrong == pytest.approx(0.05, abs=4 * math.sqrt(0.05 * 0.95 / draws))


def test_c_claims_of_a_one_factor_design_take_the_base_runs_resamples():
    """Base runs (optimizer adamw) and a variant that differs in its optimizer alone, at the
    same seeds and strengths: the claims read the base runs' values, so their test-set spread
    must be the base runs' too (none here), not the variant's."""
    rng = np.random.default_rng(4)
    base = metrics_table(-10.0, 1.0, rng).assign(optimizer="adamw")
    variant = metrics_table(-10.0, 1.0, rng).assign(optimizer="sgd")
    design = Design(
        ["dataset", "method", "strength", "seed", "optimizer"], base={"optimizer": "adamw"}
    )
    factors = design.factors
    resamples = defaultdict(dict)
    for run in pd.concat([base, variant]).itertuples():
        spread = 0.0 if run.optimizer == "adamw" else 5.0
        draws = run.value + spread * rng.standard_normal(200)
        resamples[run.metric, run.layer][tuple(getattr(run, f) for f in factors)] = draws
    tables = {"metrics": pd.concat([base, variant])}
    with_resamples = claim_rows(tables, design, OPTIONS, dict(resamples)).set_index("claim")
    without = claim_rows(tables, design, OPTIONS).set_index("claim")
    columns = ["estimate", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(with_resamples[columns], without[columns])


def test_two_runs_with_one_seed_and_strength_in_a_setting_are_an_error():
    run = ("d", "simclr", 0.5, 0, "adamw")
    resamples = {("rankme", "projector"): {run: np.zeros(3), (*run[:4], "sgd"): np.ones(3)}}
    with pytest.raises(
        ValueError, match=r"two runs of the setting .* at \(seed, strength\) \(0, 0.5\)"
    ):
        resamples_of_group(
            resamples, {"dataset": "d"}, ["dataset", "method", "strength", "seed", "optimizer"]
        )


def test_claims_skip_identical_views_and_need_two_strengths():
    rng = np.random.default_rng(2)
    metrics = metrics_table(-10.0, 1.0, rng)
    one_strength = metrics[metrics["strength"].isin([0.0, 0.5])]
    claims = claim_rows({"metrics": one_strength}, DESIGN, OPTIONS)
    assert list(claims["claim"]) == ["C2a"]  # a mean over s > 0, but no slope from one strength


def test_estimate_is_the_mean_of_per_seed_slopes_over_positive_strengths():
    rng = np.random.default_rng(3)
    metrics = metrics_table(-4.0, 2.0, rng)
    rank = metrics.query("metric == 'rankme' and layer == 'projector' and strength > 0")
    slopes = [np.polyfit(g["strength"], g["value"], 1)[0] for _, g in rank.groupby("seed")]
    assert rank_claim(metrics)["estimate"] == pytest.approx(np.mean(slopes))


def similarity_table(encoder_advantage: float, rng) -> pd.DataFrame:
    """Seed pairs of one method at a base setting and at a variant with 0.2 less similarity."""
    rows = []
    for variant, (a, b) in itertools.product(["base", "other"], itertools.combinations(SEEDS, 2)):
        for layer in ("encoder", "projector"):
            value = 0.7 + (encoder_advantage if layer == "encoder" else 0.0)
            value += (-0.2 if variant == "other" else 0.0) + 0.01 * rng.standard_normal()
            pair = {"differs_in": "seed", "layer": layer, "metric": "debiased_cka", "value": value}
            for side, seed in (("a", a), ("b", b)):
                pair |= {f"dataset_{side}": "d", f"method_{side}": "simclr"}
                pair |= {
                    f"strength_{side}": 0.5,
                    f"seed_{side}": seed,
                    f"optimizer_{side}": variant,
                }
            rows.append(pair)
    return pd.DataFrame(rows)


def test_identifiability_claims_on_planted_similarities():
    rng = np.random.default_rng(4)
    design = Design(["dataset", "method", "strength", "seed", "optimizer"], {"optimizer": "base"})
    tables = {"metrics": metrics_table(0.0, 1.0, rng).assign(optimizer="base")}
    for advantage, expected in ((0.1, "supported"), (-0.1, "contradicted")):
        tables["similarity"] = similarity_table(advantage, rng)
        claims = claim_rows(tables, design, OPTIONS).set_index(["claim", "layer"])
        assert claims.loc[("I1", ""), "verdict"] == expected
        assert claims.loc[("I1", ""), "estimate"] == pytest.approx(advantage, abs=0.02)
        for layer in ("encoder", "projector"):
            assert claims.loc[("I2", layer), "verdict"] == "supported"
            assert claims.loc[("I2", layer), "estimate"] == pytest.approx(-0.2, abs=0.02)


def crossed_similarity_table(across: float, seed_pairs: float, rng) -> pd.DataFrame:
    """Every pair of runs of two backbones (crossed with the seeds, one method, one layer):
    pairs that differ in the backbone and the seed at ``across``, seed pairs at
    ``seed_pairs``, pairs that differ in the backbone only at 1, each plus a little noise."""
    runs = list(itertools.product(["resnet", "vit"], SEEDS))
    rows = []
    for (backbone_a, seed_a), (backbone_b, seed_b) in itertools.combinations(runs, 2):
        differs = [
            f
            for f, a, b in (("backbone", backbone_a, backbone_b), ("seed", seed_a, seed_b))
            if a != b
        ]
        value = {("backbone", "seed"): across, ("seed",): seed_pairs}.get(tuple(differs), 1.0)
        pair = {"differs_in": "+".join(differs), "layer": "encoder", "metric": "debiased_cka"}
        pair["value"] = value + 0.01 * rng.standard_normal()
        for side, backbone, seed in (("a", backbone_a, seed_a), ("b", backbone_b, seed_b)):
            pair |= {f"dataset_{side}": "d", f"method_{side}": "simclr", f"strength_{side}": 0.5}
            pair |= {f"backbone_{side}": backbone, f"seed_{side}": seed}
        rows.append(pair)
    return pd.DataFrame(rows)


def test_crossed_factor_claim_compares_pairs_across_its_values_with_seed_pairs():
    rng = np.random.default_rng(11)
    design = Design(["dataset", "method", "backbone", "strength", "seed"], crossed=["backbone"])
    metrics = pd.concat(
        [metrics_table(0.0, 1.0, rng).assign(backbone=b) for b in ("resnet", "vit")]
    )
    # two-sided (exploratory): agreeing more or less than seed pairs both differ from them
    for (across, seed_pairs), expected in (((0.5, 0.8), "supported"), ((0.9, 0.6), "supported")):
        similarity = crossed_similarity_table(across, seed_pairs, rng)
        claims = claim_rows({"metrics": metrics, "similarity": similarity}, design, OPTIONS)
        (row,) = claims[claims["claim"] == "I3"].itertuples()
        assert (row.backbone, row.factor, row.layer) == ("all", "backbone", "encoder")
        assert row.verdict == expected
        differs = similarity["differs_in"]
        by_hand = (
            similarity.loc[differs == "backbone+seed", "value"].mean()
            - similarity.loc[differs == "seed", "value"].mean()
        )
        assert row.estimate == pytest.approx(by_hand)
        # without seed 0, the pairs that involve a run of seed 0 are gone
        kept = similarity[(similarity["seed_a"] != 0) & (similarity["seed_b"] != 0)]
        without_zero = (
            kept.loc[kept["differs_in"] == "backbone+seed", "value"].mean()
            - kept.loc[kept["differs_in"] == "seed", "value"].mean()
        )
        effect = next(
            effect
            for claim, effect, _, _ in crossed_factor_claims(
                similarity, "backbone", ["debiased_cka"]
            )
        )
        assert effect(frozenset(SEEDS) - {0}) == pytest.approx(without_zero)


def test_markdown_has_one_line_per_claim():
    claims = claim_rows(
        {"metrics": metrics_table(-10.0, 1.0, np.random.default_rng(5))}, DESIGN, OPTIONS
    )
    lines = claims_markdown(claims).splitlines()
    assert lines[2].startswith("| claim | dataset | method | statement | predicted |")
    assert len([line for line in lines if line.startswith("| C")]) == len(claims) == 4
    assert "95% confidence" in lines[0]
    assert "- C3: < 0, Cosentino et al. 2022" in lines


def test_printing_a_claims_file_of_an_older_version_names_the_rerun(tmp_path):
    old = tmp_path / "claims.csv"
    pd.DataFrame({"claim": ["C1"], "estimate": [0.2], "verdict": ["supported"]}).to_csv(old)
    result = subprocess.run(
        [sys.executable, "-m", "sslgeom.claims", str(old)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "older version of the claims job" in result.stderr
    assert f"--forcerun claims {old}" in result.stderr


# --- test-set resamples ---------------------------------------------------------------------


def test_unit_counts_give_the_observed_metrics():
    rng = np.random.default_rng(6)
    views, z = (
        rng.standard_normal((30, 4, 5)) + rng.standard_normal((30, 1, 5)),
        rng.random((40, 6)),
    )
    assert invariance_resamples(views, np.ones((1, 30)))[0] == pytest.approx(invariance(views))
    assert rankme_resamples(z, np.ones((1, 40)))[0] == pytest.approx(rankme(z))


def test_counts_resample_images_and_repeat_them():
    rng = np.random.default_rng(7)
    views = rng.standard_normal((6, 3, 2))
    counts = resample_counts(6, 50, seed=1)
    assert (counts.sum(axis=1) == 6).all()
    for row, resampled in zip(counts, invariance_resamples(views, counts), strict=True):
        repeated = np.repeat(views, row.astype(int), axis=0)
        assert resampled == pytest.approx(invariance(repeated))


def test_rankme_resamples_match_repeated_rows_in_bounded_memory():
    # 3,000 rows at d = 64: all outer products at once would take 98 MB
    rng = np.random.default_rng(10)
    z = rng.standard_normal((3000, 64)) @ rng.standard_normal((64, 64))
    counts = resample_counts(3000, 3, seed=3)
    tracemalloc.start()
    resampled = rankme_resamples(z, counts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 48 * 2**20, f"{peak / 2**20:.0f} MiB"
    for row, value in zip(counts, resampled, strict=True):
        assert value == pytest.approx(rankme(np.repeat(z, row.astype(int), axis=0)), rel=1e-9)


def test_bootstrap_standard_error_of_a_mean_matches_its_closed_form():
    x = np.random.default_rng(8).standard_normal(400)
    means = resample_counts(400, 4000, seed=2) @ x / 400
    assert np.std(means) == pytest.approx(np.std(x) / math.sqrt(400), rel=0.05)
    correct = np.arange(1000) < 800  # accuracy 0.8
    accuracy = accuracy_resamples(correct, resample_counts(1000, 4000, seed=9))
    assert np.std(accuracy) == pytest.approx(math.sqrt(0.8 * 0.2 / 1000), rel=0.05)


def test_accuracy_resamples_count_the_resampled_images_and_share_their_draws():
    rng = np.random.default_rng(12)
    encoder = rng.random(50) < 0.7
    projector = encoder.copy()
    projector[:5] = ~projector[:5]  # the layers differ on 5 images, agree on the other 45
    counts = resample_counts(50, 300, seed=4)
    gap = accuracy_resamples(encoder, counts) - accuracy_resamples(projector, counts)
    for row, value in zip(counts, gap, strict=True):
        repeated = np.repeat(np.arange(50), row.astype(int))  # the resampled images, by loop
        assert value == pytest.approx(encoder[repeated].mean() - projector[repeated].mean())
    # only the 5 images where the layers differ move the gap: far less spread than two
    # independent binomials of 50 images give
    assert np.std(gap) < 0.5 * math.sqrt(2 * 0.7 * 0.3 / 50)


# --- known-answer controls ----------------------------------------------------------------

CHOICES = ("pos_x-pos_y", "object_hue-background_hue")
CONTROL_DESIGN = Design(
    ["dataset", "method", "strength", "seed", "resampled_latents"], crossed=["resampled_latents"]
)


def latent_view_tables(drop: float, rng) -> dict[str, pd.DataFrame]:
    """Latent-view runs at strength 0: a resampled latent's projector R² is 0.8 − ``drop``, a
    shared one 0.8 (+ noise); a resampled latent's tangent ρ − ρ(span) and log10 step
    sensitivity are −``drop``, a shared one's +``drop``; projector class accuracy 0.9."""
    metrics, geometry = [], []
    for choice, seed in itertools.product(CHOICES, SEEDS):
        run = {"dataset": "shapes", "method": "simclr", "strength": 0.0, "seed": seed}
        run["resampled_latents"] = choice
        resampled = choice.split("-")
        metrics.append(run | {"layer": "projector", "metric": "probe_acc", "value": 0.9})
        for latent in ("pos_x", "pos_y", "scale", "rotation", "object_hue", "background_hue"):
            sign = -1 if latent in resampled else 0
            r2 = 0.8 + sign * drop + 0.01 * rng.standard_normal()
            metrics.append(
                run | {"layer": "projector", "metric": f"latent_r2_{latent}", "value": r2}
            )
            excess = (-drop if latent in resampled else drop) + 0.01 * rng.standard_normal()
            family = {"family": f"latent:{latent}"}
            geometry.append(
                run | family | {"metric": "sensitivity_minus_random_span", "value": excess}
            )
            geometry.append(run | family | {"metric": "step_sensitivity", "value": 10**excess})
    return {"metrics": pd.DataFrame(metrics), "geometry": pd.DataFrame(geometry)}


def test_latent_view_claims_on_planted_effects():
    rng = np.random.default_rng(6)
    for drop, expected in ((0.5, "supported"), (-0.5, "contradicted")):
        tables = latent_view_tables(drop, rng)
        claims = claim_rows(tables, CONTROL_DESIGN, OPTIONS)
        k1 = claims[claims["claim"] == "K1"]
        # one K1 per resampled latent of each choice, each the resampled − shared R² gap
        assert len(k1) == 4
        assert set(k1["verdict"]) == {expected}
        assert k1["estimate"].to_numpy() == pytest.approx(-drop, abs=0.03)
        tangent = claims[claims["claim"].isin(["K2", "K3"])]
        assert len(tangent) == 2 * 6 and sorted(tangent["claim"].value_counts()) == [4, 8]
        assert set(tangent["verdict"]) == {expected}
        k4 = claims[claims["claim"] == "K4"]
        assert k4["estimate"].to_numpy() == pytest.approx([0.9 - 1 / 5] * 2)
        assert list(k4["resampled_latents"]) == sorted(CHOICES)
        # resampled −drop against shared +drop; K5 is two-sided (exploratory): either way differs
        k5 = claims[claims["claim"] == "K5"]
        assert len(k5) == 4 and set(k5["verdict"]) == {"supported"}
        assert k5["estimate"].to_numpy() == pytest.approx(-2 * drop, abs=0.03)
        steps = claims[claims["claim"].isin(["K6", "K7"])]
        assert sorted(steps["claim"].value_counts()) == [4, 8]
        assert set(steps["verdict"]) == {expected}
        resampled = claims[claims["claim"] == "K6"]["estimate"].to_numpy()
        assert resampled == pytest.approx(-drop, abs=0.03)


def test_k1_estimate_is_the_mean_over_seeds_of_the_resampled_minus_shared_gap():
    tables = latent_view_tables(0.3, np.random.default_rng(7))
    metrics = (
        tables["metrics"]
        .query("metric == 'latent_r2_pos_x'")
        .set_index(["resampled_latents", "seed"])["value"]
    )
    gaps = [metrics[CHOICES[0], seed] - metrics[CHOICES[1], seed] for seed in SEEDS]
    claims = claim_rows(tables, CONTROL_DESIGN, OPTIONS)
    k1 = claims[(claims["claim"] == "K1") & claims["statement"].str.contains("recovers pos_x")]
    assert k1["estimate"].iloc[0] == pytest.approx(np.mean(gaps))
    half_width = stats.t.ppf(0.975, len(SEEDS) - 1) * np.std(gaps, ddof=1) / np.sqrt(len(SEEDS))
    assert k1["ci_high"].iloc[0] - k1["estimate"].iloc[0] == pytest.approx(half_width)


def test_content_style_claim_is_content_minus_style_kernel_r2_per_layer():
    rng = np.random.default_rng(9)
    rows = []
    for seed, layer in itertools.product(SEEDS, ("encoder", "projector")):
        run = {"dataset": "vectors_normal", "method": "simclr", "strength": 0.0, "seed": seed}
        for name, base in (("c1", 0.98), ("c2", 0.96), ("s1", 0.1), ("s2", 0.05), ("s3", 0.0)):
            value = base + 0.02 * rng.standard_normal()
            rows.append(
                run | {"layer": layer, "metric": f"latent_r2_kernel_{name}", "value": value}
            )
            rows.append(run | {"layer": layer, "metric": f"latent_r2_{name}", "value": 0.5})
    metrics = pd.DataFrame(rows)
    design = Design(["dataset", "method", "strength", "seed"])
    claims = claim_rows(
        {"metrics": metrics}, design, OPTIONS, dataset_spaces={"vectors_normal": "normal"}
    )
    z2 = claims[claims["claim"] == "Z2"].set_index("layer")
    assert list(z2.index) == ["encoder", "projector"]
    for layer in ("encoder", "projector"):
        kernel = metrics[(metrics["layer"] == layer) & metrics["metric"].str.contains("kernel")]
        gaps = []
        for seed in SEEDS:
            values = kernel[kernel["seed"] == seed].set_index("metric")["value"]
            content = values[["latent_r2_kernel_c1", "latent_r2_kernel_c2"]].mean()
            style = values[[f"latent_r2_kernel_s{i}" for i in (1, 2, 3)]].mean()
            gaps.append(content - style)
        assert z2.loc[layer, "estimate"] == pytest.approx(np.mean(gaps))
        assert z2.loc[layer, "verdict"] == "supported"


def test_exact_tangent_claims_of_content_and_style_by_direct_computation():
    """Z4–Z7 from planted per-seed values: each estimate is the mean over seeds of the effect
    computed here from its statement."""
    rng = np.random.default_rng(11)
    rows = []
    for seed in SEEDS:
        run = {"dataset": "vectors_normal", "method": "simclr", "strength": 0.0, "seed": seed}

        def add(family, metric, value, run=run):
            rows.append(run | {"family": family, "metric": metric, "value": value})

        add("style", "output_gain", 0.01 * rng.uniform(0.5, 1.5))
        add("content", "output_gain", rng.uniform(0.5, 1.5))
        add("style", "step_sensitivity", 0.05 * rng.uniform(0.5, 1.5))
        for name in ("c1", "c2", "s1", "s2", "s3"):
            rho = rng.uniform(2, 3) if name[0] == "c" else rng.uniform(0, 0.2)
            add(f"latent:{name}", "sensitivity", rho)
            add(f"latent:{name}", "sensitivity_minus_random_span", rho - 1.5)
    geometry = pd.DataFrame(rows)
    metrics = geometry.assign(layer="projector", metric="probe_acc").drop(columns="family")
    design = Design(["dataset", "method", "strength", "seed"])
    claims = claim_rows(
        {"metrics": metrics, "geometry": geometry},
        design,
        OPTIONS,
        dataset_spaces={"vectors_normal": "normal"},
    ).set_index("claim")

    def value(seed, family, metric):
        match = (geometry["seed"] == seed) & (geometry["family"] == family)
        return geometry[match & (geometry["metric"] == metric)]["value"].item()

    def latent_mean(seed, names, metric):
        return np.mean([value(seed, f"latent:{name}", metric) for name in names])

    style, content = ("s1", "s2", "s3"), ("c1", "c2")
    expected = {
        "Z4": [
            math.log10(value(s, "style", "output_gain") / value(s, "content", "output_gain"))
            for s in SEEDS
        ],
        "Z5": [latent_mean(s, style, "sensitivity_minus_random_span") for s in SEEDS],
        "Z6": [
            latent_mean(s, style, "sensitivity") - latent_mean(s, content, "sensitivity")
            for s in SEEDS
        ],
        "Z7": [math.log10(value(s, "style", "step_sensitivity")) for s in SEEDS],
    }
    for claim, effects in expected.items():
        assert claims.loc[claim, "estimate"] == pytest.approx(np.mean(effects))
        assert claims.loc[claim, "verdict"] == "supported"


def test_step_geometry_claims_compare_augmentation_and_style_steps_with_data_steps():
    rows = []
    rng = np.random.default_rng(12)
    for seed, strength in itertools.product(SEEDS, (0.0, 0.5, 1.0)):
        run = {"dataset": "shapes", "method": "simclr", "strength": strength, "seed": seed}
        for family, step in (("augmentation", 0.1), ("style", 0.5), ("data", 1.0)):
            value = step * rng.uniform(0.8, 1.2)
            rows.append(run | {"family": family, "metric": "step_sensitivity", "value": value})
            for metric in ("sensitivity", "sensitivity_minus_random_span"):  # what G2 reads
                rows.append(run | {"family": family, "metric": metric, "value": 1.0})
        rows.append(run | {"family": "data", "metric": "angle_minus_random_span", "value": -5.0})
    geometry = pd.DataFrame(rows)
    metrics = geometry.assign(layer="projector", metric="probe_acc").drop(columns="family")
    claims = claim_rows({"metrics": metrics, "geometry": geometry}, DESIGN, OPTIONS)
    claims = claims.set_index("claim")
    steps = geometry[geometry["metric"] == "step_sensitivity"]
    table = steps.set_index(["family", "seed", "strength"])["value"]
    for claim, family in (("G3a", "augmentation"), ("G3b", "style")):
        per_seed = [
            np.mean([math.log10(table[family, s, x] / table["data", s, x]) for x in (0.5, 1.0)])
            for s in SEEDS
        ]
        assert claims.loc[claim, "estimate"] == pytest.approx(np.mean(per_seed))


@pytest.mark.parametrize(("l1_mcc", "verdict"), [(0.95, "supported"), (0.4, "contradicted")])
def test_similarity_claim_compares_the_l1_runs_mcc_with_the_l2_variants(l1_mcc, verdict):
    rng = np.random.default_rng(10)
    rows = []
    for similarity, seed in itertools.product(("l1", "l2"), SEEDS):
        run = {"dataset": "vectors_clica", "method": "simclr", "similarity": similarity}
        mcc = (l1_mcc if similarity == "l1" else 0.6) + 0.01 * rng.standard_normal()
        run |= {"strength": 0.0, "seed": seed, "layer": "projector"}
        rows += [run | {"metric": "mcc", "value": mcc}, run | {"metric": "knn_acc", "value": 0.3}]
    metrics = pd.DataFrame(rows)
    design = Design(
        ["dataset", "method", "similarity", "strength", "seed"], base={"similarity": "l1"}
    )
    claims = claim_rows({"metrics": metrics}, design, OPTIONS)
    (z3,) = claims[claims["claim"] == "Z3"].itertuples()
    mcc = metrics[metrics["metric"] == "mcc"].set_index(["similarity", "seed"])["value"]
    assert z3.estimate == pytest.approx(np.mean([mcc["l1", s] - mcc["l2", s] for s in SEEDS]))
    assert z3.verdict == verdict


def test_vectors_claim_compares_matched_with_mismatched_latents_seed_by_seed():
    rng = np.random.default_rng(8)
    rows = []
    for dataset, seed in itertools.product(("vectors", "vectors_box"), SEEDS):
        base = 0.95 if dataset == "vectors" else 0.7
        for index in range(1, 4):
            run = {"dataset": dataset, "method": "simclr", "strength": 0.0, "seed": seed}
            value = base + 0.02 * rng.standard_normal()
            rows.append(run | {"layer": "encoder", "metric": f"latent_r2_z{index}", "value": value})
    metrics = pd.DataFrame(rows)
    design = Design(["dataset", "method", "strength", "seed"], crossed=["dataset"])
    spaces = {"vectors": "sphere", "vectors_box": "box"}
    claims = claim_rows({"metrics": metrics}, design, OPTIONS, dataset_spaces=spaces)
    z1 = claims[claims["claim"] == "Z1"].iloc[0]
    assert z1["dataset"] == "vectors − vectors_box"
    means = metrics.groupby(["dataset", "seed"])["value"].mean()
    gaps = [means["vectors", seed] - means["vectors_box", seed] for seed in SEEDS]
    assert z1["estimate"] == pytest.approx(np.mean(gaps))
    assert z1["verdict"] == "supported"
