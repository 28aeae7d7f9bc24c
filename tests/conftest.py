import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "tests" / "fixtures" / "tiny_config.yaml"
CORE_METRICS = [
    "probe_acc",
    "knn_acc",
    "invariance",
    "view_cosine",
    "invariance_ref",
    "view_cosine_ref",
    "rankme",
    "participation_ratio",
    "alpha_req",
]


def snakemake_command(*args: str, workdir: Path, snakefile: Path = REPO / "Snakefile") -> list[str]:
    """Snakemake on this repository's Snakefile with ``workdir`` as its working directory."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "-d",
        str(workdir),
        *args,
    ]


def snakemake(
    *args: str, workdir: Path, check: bool = True, snakefile: Path = REPO / "Snakefile"
) -> subprocess.CompletedProcess:
    command = snakemake_command(*args, workdir=workdir, snakefile=snakefile)
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def finished_workdir(config: Path, workdir: Path) -> Path:
    """``workdir`` after ``snakemake --cores 2`` has run ``config`` (copied in) to completion."""
    shutil.copy(config, workdir / "config.yaml")
    snakemake("--cores", "2", "--configfile", "config.yaml", workdir=workdir)
    return workdir
