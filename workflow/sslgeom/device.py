"""Choosing the compute device, and how its kernels may trade reproducibility for speed."""

import os

import torch

# cuBLAS workspace that makes its results reproducible (PyTorch's reproducibility notes)
DETERMINISTIC_CUBLAS_WORKSPACE = ":4096:8"


def resolve_device(requested: str, log=print) -> torch.device:
    """``auto``: CUDA when present, else the CPU (and says so); ``cuda`` without a GPU fails."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        log("device auto: no CUDA device found, using the CPU")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {requested!r} was requested but torch sees no CUDA device "
            f"(torch {torch.__version__}); set device: auto or cpu in the config"
        )
    return torch.device(requested)


def configure_kernels(device: torch.device, deterministic: bool) -> None:
    """Set how this process's CUDA kernels are chosen; the CPU's are left as they are (a CPU
    run is reproducible on the same machine and thread count either way).

    ``deterministic``: PyTorch's deterministic algorithms, cuBLAS with a fixed workspace
    (``CUBLAS_WORKSPACE_CONFIG``, unless already set) and no cuDNN autotuning, so that a run
    resumed from its checkpoint ends bit-identical to an uninterrupted one on the same GPU and
    software. Otherwise cuDNN autotunes its convolutions for the run's shapes (faster; the
    algorithms it picks may differ from process to process, so a resumed run can differ from
    an uninterrupted one in the last bits). Call it before the first CUDA matrix product of
    the process: cuBLAS reads its workspace setting once.
    """
    if device.type != "cuda":
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", DETERMINISTIC_CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.benchmark = not deterministic
