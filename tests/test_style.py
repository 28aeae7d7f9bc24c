"""The code base stays ruff-clean, snakefmt-formatted and `snakemake --lint` clean."""

import subprocess
import sys

import pytest
from conftest import REPO

CHECKS = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "snakefmt": [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"],
    "snakemake --lint": [sys.executable, "-m", "snakemake", "--lint"],
}


@pytest.mark.parametrize("name", CHECKS)
def test_code_is_clean(name):
    result = subprocess.run(CHECKS[name], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    if name == "snakemake --lint":
        assert "Congratulations" in result.stdout + result.stderr
