"""Device choice: auto falls back to the CPU and says so; CUDA without a GPU fails clearly.
Kernel settings: deterministic CUDA kernels on request, cuDNN autotuning otherwise, the CPU
untouched."""

import os

import pytest
import torch

from sslgeom.device import configure_kernels, resolve_device

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


@no_gpu
def test_auto_falls_back_to_the_cpu_and_says_so():
    said = []
    assert resolve_device("auto", log=said.append) == torch.device("cpu")
    assert said == ["device auto: no CUDA device found, using the CPU"]


@no_gpu
@pytest.mark.parametrize("requested", ["cuda", "cuda:1"])
def test_cuda_without_a_gpu_fails_with_a_clear_message(requested):
    with pytest.raises(RuntimeError, match=f"device '{requested}' was requested but torch sees no"):
        resolve_device(requested)


def test_cpu_is_taken_as_asked():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.fixture
def kernel_settings():
    """Restores the process-wide settings that configure_kernels changes."""
    workspace = os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    deterministic = torch.are_deterministic_algorithms_enabled()
    benchmark = torch.backends.cudnn.benchmark
    yield
    os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    if workspace is not None:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.benchmark = benchmark


def test_deterministic_cuda_kernels(kernel_settings):
    configure_kernels(torch.device("cuda"), deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.benchmark


def test_default_cuda_kernels_are_autotuned(kernel_settings):
    torch.use_deterministic_algorithms(True)  # as a deterministic run earlier in the process
    configure_kernels(torch.device("cuda:0"), deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.benchmark
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_a_cublas_workspace_set_by_the_user_is_kept(kernel_settings):
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":16:8"
    configure_kernels(torch.device("cuda"), deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_cpu_kernels_are_left_alone(kernel_settings):
    before = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark
    configure_kernels(torch.device("cpu"), deterministic=True)
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark) == before
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
