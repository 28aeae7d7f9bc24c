"""Jobs of the GPU check in their own processes: benchmarks/gpu_check.py run again with
``--job``, its output to a log or a pipe, waited for with a timeout."""

import json
import subprocess
import sys
from pathlib import Path

ENTRY_POINT = Path(__file__).parents[1] / "gpu_check.py"
JOB_TIMEOUT_S = 600


def start_job(job: str, arguments: dict, log: Path | None) -> subprocess.Popen:
    """The check running ``job`` with ``arguments``; its output to ``log``, or to a pipe."""
    command = [
        sys.executable,
        "-u",
        str(ENTRY_POINT),
        "--job",
        job,
        "--job-arguments",
        json.dumps(arguments),
    ]
    if log is None:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    with open(log, "w") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def finish_job(process: subprocess.Popen, log: Path) -> None:
    """Wait for a job (killing it after JOB_TIMEOUT_S); if it failed, raise with the end of
    its log."""
    try:
        process.wait(timeout=JOB_TIMEOUT_S)
    finally:
        process.kill()
    if process.returncode != 0:
        raise RuntimeError(f"job failed ({process.returncode}):\n{log.read_text()[-3000:]}")
