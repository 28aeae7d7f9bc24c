"""Pipeline wall time, per-rule cost, analysis cost per run and rerun costs of a config.

    python benchmarks/pipeline.py [--cores 2 1] [--configfile config.yaml] [--workdir DIR]

For each ``--cores`` value, in this one process run: a copy of the workflow (Snakefile,
workflow/, envs/, the config) in a fresh folder, ``snakemake --cores N`` from an empty
``results/``, timed. Then, after the first full run:

- time per rule, from Snakemake's ``benchmark:`` files, and the wall time not covered by jobs;
- every analysis of a run (``analyze_run``, ``geometry``) against that run's training time,
  and embedding beside them;
- redrawing one figure (``--forcerun``) and the jobs it ran;
- a dry run after editing an analysis option: the rules it would rerun.

With several ``--cores`` values, the speed-up of each over the last one is printed.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from timing import timed  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", "workflow", "envs"]
PER_RUN_ANALYSES = ["analyze", "geometry"]


def fresh_copy(workdir: Path, configfile: Path) -> Path:
    """The workflow and its config in ``workdir`` (removed first), no results."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, workdir / name)
    shutil.copy(configfile, workdir / "config.yaml")
    return workdir


def snakemake(workdir: Path, *args: str) -> tuple[float, str]:
    """Run Snakemake in ``workdir``; (seconds, log). Fails loudly."""
    command = [sys.executable, "-m", "snakemake", "--configfile", "config.yaml", *args]
    result, seconds = timed(
        lambda: subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout + result.stderr


def rules_run(log: str) -> list[str]:
    return re.findall(r"^(?:local)?rule (\w+):", log, re.M)


def benchmark_table(workdir: Path) -> pd.DataFrame:
    """One row per job's ``benchmark:`` file: experiment, rule (its folder), job, seconds."""
    rows = []
    results = workdir / "results"
    for path in sorted(results.glob("benchmarks/*/*.tsv")):  # shared datasets
        rows.append(("data", path.parent.name, path.stem, path))
    for path in sorted(results.glob("*/benchmarks/**/*.tsv")):
        experiment, _, rule, *job = path.relative_to(results).with_suffix("").parts
        rows.append((experiment, rule, "/".join(job), path))
    return pd.DataFrame(
        [
            {"experiment": e, "rule": r, "job": j, "s": pd.read_csv(p, sep="\t")["s"].iloc[0]}
            for e, r, j, p in rows
        ]
    )


def report_rules(jobs: pd.DataFrame, wall: float, cores: int) -> None:
    per_rule = jobs.groupby("rule")["s"].agg(["count", "mean", "sum"])
    print(per_rule.sort_values("sum", ascending=False).round(1).to_string())
    busy = per_rule["sum"].sum()
    print(
        f"job time {busy:.0f} s over {cores} cores = {busy / cores:.0f} s of the {wall:.0f} s "
        f"wall; the other {wall - busy / cores:.0f} s: Snakemake's own start-up, DAG and "
        "scheduling, and cores left idle while the last jobs finish"
    )


def report_analysis_cost(jobs: pd.DataFrame) -> None:
    per_run = jobs.pivot_table(index=["experiment", "job"], columns="rule", values="s")
    per_run = per_run.dropna(subset=["pretrain"])
    analyses = per_run[PER_RUN_ANALYSES].sum(axis=1)
    share = analyses / per_run["pretrain"]
    print(
        f"analyses of a run ({' + '.join(PER_RUN_ANALYSES)}) / its training: median "
        f"{100 * share.median():.1f}%, max {100 * share.max():.1f}% "
        f"(training median {per_run['pretrain'].median():.1f} s, analyses "
        f"{analyses.median():.1f} s); embedding / training: median "
        f"{100 * (per_run['embed'] / per_run['pretrain']).median():.1f}%"
    )


def report_reruns(workdir: Path, experiment: str) -> None:
    target = f"results/{experiment}/figures/spectra.pdf"
    seconds, log = snakemake(workdir, "--cores", "1", "--forcerun", "figure_spectra", target)
    print(f"redraw one figure: {seconds:.1f} s, jobs {rules_run(log)}")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["analysis"]["knn_k"] += 1
    (workdir / "edited.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    _, log = snakemake(workdir, "-n", "--configfile", "edited.yaml")
    print(f"after editing analysis.knn_k, a dry run plans: {sorted(set(rules_run(log)))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[2])
    parser.add_argument("--configfile", type=Path, default=REPO / "config.yaml")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sslgeom_bench"
    )
    args = parser.parse_args()
    walls = {}
    for index, cores in enumerate(args.cores):
        workdir = fresh_copy(args.workdir / f"cores{cores}", args.configfile.resolve())
        print(f"--cores {cores}: snakemake from an empty results/ in {workdir}", flush=True)
        walls[cores], _ = snakemake(workdir, "--cores", str(cores))
        print(f"--cores {cores}: wall {walls[cores]:.0f} s ({walls[cores] / 60:.1f} min)")
        if index == 0:
            jobs = benchmark_table(workdir)
            report_rules(jobs, walls[cores], cores)
            report_analysis_cost(jobs)
            report_reruns(workdir, jobs.query("rule == 'pretrain'")["experiment"].iloc[0])
        sys.stdout.flush()
    baseline = args.cores[-1]
    for cores, wall in walls.items():
        if cores != baseline:
            print(
                f"speed-up of --cores {cores} over --cores {baseline}: "
                f"{walls[baseline] / wall:.2f}×"
            )


if __name__ == "__main__":
    main()
