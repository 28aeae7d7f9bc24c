"""Choosing the compute device."""

import torch


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
