"""Models trained elsewhere, exposed as an encoder followed by a projector.

A model of the config's ``models`` section is a TorchScript file, or a Python factory
(``package.module:function``) whose module is filled from a state-dict file. ``encoder`` and
``projector`` name its submodules (``backbone``, ``head.0``; a state-dict key prefix such as
``head.0.`` names the same module): the encoder's modules run one after another on the
normalised inputs, then the projector's, and each projector module's output is one layer
(``proj1``, …, ``projector``), as in :class:`sslgeom.models.Projector`. Every layer is read
flattened to one vector per input. Without projector modules only the encoder is analysed.

A state-dict file is read with ``torch.load(..., weights_only=True)``, which unpickles tensors
and plain containers only and runs no code; any other pickled object is refused. A TorchScript
file or a factory's module is code, run because the user chose it.
"""

import importlib
import os
import pickle
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from sslgeom.config.layers import projector_layer_names
from sslgeom.models import SSLModel


def load_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The tensors of a state-dict file, unpickled without running any code from it."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).splitlines()[0]
        raise ValueError(
            f"refused to load {path}: it holds pickled objects other than tensors, which could "
            f"run code when loaded ({reason}); save the model's state_dict() with torch.save"
        ) from None
    if not isinstance(state, Mapping) or not all(
        isinstance(key, str) and isinstance(value, Tensor) for key, value in state.items()
    ):
        raise ValueError(f"{path} is not a state dict: expected a mapping of names to tensors")
    return dict(state)


def import_factory(reference: str):
    """The function that ``package.module:function`` names, imported from the working
    directory or the Python path."""
    module_name, _, function_name = reference.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import the model factory {reference!r}: {err}") from None


def load_network(spec: dict, device: torch.device) -> nn.Module:
    """The whole network of a ``models`` entry, its weights loaded, on ``device``."""
    if "torchscript" in spec:
        return torch.jit.load(spec["torchscript"], map_location=device)
    network = import_factory(spec["factory"])(**spec["factory_arguments"])
    try:
        network.load_state_dict(load_state_dict(spec["weights"]))
    except RuntimeError as err:
        problems = " ".join(str(err).split("\n", 1)[-1].split())
        raise ValueError(f"{spec['weights']} does not fit {spec['factory']}: {problems}") from None
    return network.to(device)


def submodules(network: nn.Module, names: Sequence[str]) -> list[nn.Module]:
    """The submodules called ``names`` (a trailing ``.`` of a state-dict prefix ignored)."""
    modules = dict(network.named_modules())
    missing = [name for name in names if name.removesuffix(".") not in modules]
    if missing:
        known = [name for name in modules if name][:20]
        raise ValueError(f"the model has no module {missing[0]!r}; its modules: {known}")
    return [modules[name.removesuffix(".")] for name in names]


class ExternalEncoder(nn.Module):
    """Normalise images per channel ((x − mean) / std), run ``modules`` in turn, flatten."""

    def __init__(self, modules: list[nn.Module], mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.stages = nn.ModuleList(modules)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        shape = (1, -1, *[1] * (x.dim() - 2))
        x = (x - self.mean.view(shape)) / self.std.view(shape)
        for stage in self.stages:
            x = stage(x)
        return x.flatten(1)


class ExternalProjector(nn.Module):
    """``modules`` in turn, each output (flattened) a layer: ``proj1``, …, ``projector``."""

    def __init__(self, modules: list[nn.Module]):
        super().__init__()
        self.stages = nn.ModuleList(modules)
        self.layer_names = projector_layer_names(len(modules))

    def forward_all(self, h: Tensor) -> dict[str, Tensor]:
        outputs = {}
        for name, stage in zip(self.layer_names, self.stages, strict=True):
            h = stage(h).flatten(1)
            outputs[name] = h
        return outputs

    def forward(self, h: Tensor) -> Tensor:
        outputs = self.forward_all(h)
        return outputs["projector"] if outputs else h


def load_external_model(spec: dict, device: torch.device) -> SSLModel:
    """A ``models`` entry (defaults filled) as an :class:`SSLModel`, in eval mode."""
    network = load_network(spec, device)
    channels = spec["input_shape"][0]
    mean = spec["mean"] if spec["mean"] is not None else [0.0] * channels
    std = spec["std"] if spec["std"] is not None else [1.0] * channels
    encoder = ExternalEncoder(submodules(network, spec["encoder"]), mean, std)
    projector = ExternalProjector(submodules(network, spec["projector"]))
    return SSLModel(encoder, projector).to(device).eval()
