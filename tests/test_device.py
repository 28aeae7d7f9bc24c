"""Device choice: auto falls back to the CPU and says so; CUDA without a GPU fails clearly."""

import pytest
import torch

from sslgeom.device import resolve_device

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
