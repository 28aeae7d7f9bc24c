"""Models trained elsewhere, exposed as an encoder followed by a projector.

A model of the config's ``models`` section is a TorchScript file, or a Python factory
(``package.module:function``) whose module is filled from a state-dict file: the file itself, or
the part of a training checkpoint that ``weights_key`` names (``state_dict`` of a PyTorch
Lightning checkpoint), its key prefixes ``strip_prefix`` removed (``module.`` of DataParallel).
``encoder`` and ``projector`` name its submodules (``backbone``, ``head.0``; a state-dict key
prefix such as ``head.0.`` names the same module): the encoder's modules run one after another
on the normalised inputs, then the projector's, and each projector module's output is one layer
(``proj1``, …, ``projector``), as in :class:`sslgeom.models.Projector`. Every layer is read
flattened to one vector per input. Without projector modules only the encoder is analysed.

:func:`checked_external_model` loads a model and runs that chain once on a dummy batch, so that
a mistake in its entry stops the config check and the embed job alike with one line naming the
setting (:class:`~sslgeom.config.messages.ConfigError`).

A checkpoint is read with ``torch.load(..., weights_only=True)``, which unpickles tensors and
plain containers only and runs no code; any other pickled object is refused. A TorchScript
file or a factory's module is code, run because the user chose it.
"""

import importlib
import os
import pickle
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from sslgeom.config.layers import projector_layer_names
from sslgeom.config.messages import KeyPath, error_at
from sslgeom.models import SSLModel

DUMMY_BATCH = 2  # inputs of the dummy batch the chain is checked on
TORCHSCRIPT_FAILURE = "The following operation failed in the TorchScript interpreter"
LISTED_KEYS = 8  # keys an error message lists


class EntryError(ValueError):
    """A mistake in a ``models`` entry; ``key``: the setting at fault, as a key path inside the
    entry (``("projector", 1)``)."""

    def __init__(self, key: KeyPath, problem: str):
        super().__init__(problem)
        self.key = key


class StageError(RuntimeError):
    """Module ``index`` of the ``part`` (encoder or projector) failed on ``given``, its input."""

    def __init__(self, part: str, index: int, given: Tensor, cause: BaseException):
        self.part, self.index, self.cause = part, index, cause
        self.shape = "×".join(str(size) for size in given.shape)
        super().__init__(f"{part} module {index} fails (input {self.shape}): {error_gist(cause)}")


def error_gist(err: BaseException) -> str:
    """The line of an error that says what went wrong: its first, or, for an error raised inside
    TorchScript (whose message starts with the interpreter's traceback), the original error."""
    lines = [line for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
    if lines[0].startswith(TORCHSCRIPT_FAILURE):
        return re.sub(r"^\w+: ", "", lines[-1])
    return lines[0]


def listed(keys) -> str:
    """The first few of ``keys``, comma-separated, and how many more there are."""
    keys = [str(key) for key in keys]
    more = f", … ({len(keys) - LISTED_KEYS} more)" if len(keys) > LISTED_KEYS else ""
    return ", ".join(keys[:LISTED_KEYS]) + more


def read_checkpoint(path: str | Path):
    """The contents of a ``torch.save`` file, unpickled without running any code from it."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise EntryError(
            ("weights",),
            f"refused to load {path}: it holds pickled objects other than tensors, which could "
            f"run code when loaded ({error_gist(err)}); save the model's state_dict() with "
            "torch.save",
        ) from None
    except (OSError, RuntimeError) as err:
        raise EntryError(("weights",), f"cannot read {path}: {error_gist(err)}") from err


def select_weights(checkpoint, weights_key: str | None, path: str | Path):
    """The part of ``checkpoint`` that ``weights_key`` names, dots separating the keys of nested
    mappings (``state_dict``, ``ema.model``); the whole checkpoint where it is None."""
    if weights_key is None:
        return checkpoint
    selected, walked = checkpoint, []
    for key in weights_key.split("."):
        if not isinstance(selected, Mapping) or key not in selected:
            level = f"{'.'.join(walked)!r} of {path}" if walked else str(path)
            there = listed(selected) if isinstance(selected, Mapping) else "none, not a mapping"
            raise EntryError(("weights_key",), f"no key {key!r} in {level}; keys there: {there}")
        selected = selected[key]
        walked.append(key)
    return selected


def strip_prefixes(state: dict[str, Tensor], prefixes: Sequence[str]) -> dict[str, Tensor]:
    """``state`` with each of ``prefixes`` in turn removed from every key that starts with it;
    a prefix that no key starts with is refused (most likely a typo)."""
    for prefix in prefixes:
        if not any(key.startswith(prefix) for key in state):
            raise EntryError(
                ("strip_prefix",),
                f"no key starts with {prefix!r}; keys: {listed(state)}; allowed: prefixes the "
                "keys have",
            )
        state = {key.removeprefix(prefix): value for key, value in state.items()}
    return state


def load_state_dict(
    path: str | Path, weights_key: str | None = None, prefixes: Sequence[str] = ()
) -> dict[str, Tensor]:
    """The tensors of a state-dict file, or of the part of a training checkpoint that
    ``weights_key`` names (:func:`select_weights`), ``prefixes`` stripped from their names; the
    rest of the checkpoint (epoch, optimizer states, hyperparameters) may hold any plain data."""
    state = select_weights(read_checkpoint(path), weights_key, path)
    if not isinstance(state, Mapping) or not all(
        isinstance(key, str) and isinstance(value, Tensor) for key, value in state.items()
    ):
        what = f"{weights_key!r} of {path}" if weights_key else str(path)
        keys = f"; its keys: {listed(state)}" if isinstance(state, Mapping) else ""
        raise EntryError(
            ("weights_key",) if weights_key else ("weights",),
            f"{what} is not a state dict (a mapping of names to tensors){keys}; allowed: a "
            "state dict, or weights_key naming where a checkpoint holds one",
        )
    return strip_prefixes(dict(state), prefixes)


def prefixes_to_strip(spec: dict) -> list[str]:
    """The ``strip_prefix`` of a ``models`` entry, one prefix or a list of them, as a list."""
    prefixes = spec["strip_prefix"]
    return [prefixes] if isinstance(prefixes, str) else prefixes


def import_factory(reference: str):
    """The function that ``package.module:function`` names, imported from the working
    directory or the Python path (the working directory is on it during the import only)."""
    module_name, _, function_name = reference.partition(":")
    working_directory = os.getcwd()
    sys.path.insert(0, working_directory)
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as err:
        raise EntryError(
            ("factory",), f"cannot import the model factory {reference!r}: {err}"
        ) from None
    finally:
        sys.path.remove(working_directory)


def load_network(spec: dict, device: torch.device | str) -> nn.Module:
    """The whole network of a ``models`` entry, its weights loaded, on ``device``."""
    if "torchscript" in spec:
        try:
            return torch.jit.load(spec["torchscript"], map_location=device)
        except (OSError, RuntimeError, ValueError) as err:
            problem = f"cannot load {spec['torchscript']}: {error_gist(err)}"
            raise EntryError(("torchscript",), problem) from err
    factory, arguments = spec["factory"], spec["factory_arguments"]
    build = import_factory(factory)
    try:
        network = build(**arguments)
    except Exception as err:
        problem = f"{factory} fails on {arguments}: {error_gist(err)}"
        raise EntryError(("factory_arguments",), problem) from err
    state = load_state_dict(spec["weights"], spec["weights_key"], prefixes_to_strip(spec))
    try:
        network.load_state_dict(state)
    except RuntimeError as err:
        problems = " ".join(str(err).split("\n", 1)[-1].split())
        raise EntryError(
            ("weights",), f"{spec['weights']} does not fit {factory}: {problems}"
        ) from None
    return network.to(device)


def submodules(network: nn.Module, names: Sequence[str], key: str) -> list[nn.Module]:
    """The submodules called ``names`` (a trailing ``.`` of a state-dict prefix ignored), which
    the entry lists under ``key``."""
    modules = dict(network.named_modules())
    missing = [index for index, name in enumerate(names) if name.removesuffix(".") not in modules]
    if missing:
        known = [name for name in modules if name][:20]
        problem = f"the model has no module {names[missing[0]]!r}; its modules: {known}"
        raise EntryError((key, missing[0]), problem)
    return [modules[name.removesuffix(".")] for name in names]


def run_stage(stage: nn.Module, x: Tensor, part: str, index: int) -> Tensor:
    """``stage(x)``, module ``index`` of the ``part``; a :class:`StageError` naming it and its
    input where it fails or returns anything but a tensor."""
    try:
        output = stage(x)
    except Exception as err:
        raise StageError(part, index, x, err) from err
    if not isinstance(output, Tensor):
        problem = TypeError(f"it returns a {type(output).__name__}, not a tensor")
        raise StageError(part, index, x, problem)
    return output


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
        for index, stage in enumerate(self.stages):
            x = run_stage(stage, x, "encoder", index)
        return x.flatten(1)


class ExternalProjector(nn.Module):
    """``modules`` in turn, each output (flattened) a layer: ``proj1``, …, ``projector``."""

    def __init__(self, modules: list[nn.Module]):
        super().__init__()
        self.stages = nn.ModuleList(modules)
        self.layer_names = projector_layer_names(len(modules))

    def forward_all(self, h: Tensor) -> dict[str, Tensor]:
        outputs = {}
        for index, (name, stage) in enumerate(zip(self.layer_names, self.stages, strict=True)):
            h = run_stage(stage, h, "projector", index).flatten(1)
            outputs[name] = h
        return outputs

    def forward(self, h: Tensor) -> Tensor:
        outputs = self.forward_all(h)
        return outputs["projector"] if outputs else h


def load_external_model(spec: dict, device: torch.device | str) -> SSLModel:
    """A ``models`` entry (defaults filled) as an :class:`SSLModel`, in eval mode."""
    network = load_network(spec, device)
    channels = spec["input_shape"][0]
    mean = spec["mean"] if spec["mean"] is not None else [0.0] * channels
    std = spec["std"] if spec["std"] is not None else [1.0] * channels
    encoder = ExternalEncoder(submodules(network, spec["encoder"], "encoder"), mean, std)
    projector = ExternalProjector(submodules(network, spec["projector"], "projector"))
    return SSLModel(encoder, projector).to(device).eval()


def checked_external_model(name: str, spec: dict, device: torch.device | str) -> SSLModel:
    """Model ``name`` of the ``models`` section (``spec``: its entry), loaded on ``device``
    and its encoder then projector run once on a dummy batch of its ``input_shape``; a
    ConfigError naming the setting at fault (``models.<name>.projector[1]``) where either
    fails. The config check and the embed job both load models through it."""
    try:
        model = load_external_model(spec, device)
    except EntryError as err:
        raise error_at(("models", name, *err.key), str(err)) from err
    dummy = torch.zeros(DUMMY_BATCH, *spec["input_shape"], device=device)
    try:
        with torch.no_grad():
            model.forward_all(dummy)
    except StageError as err:
        raise error_at(("models", name, err.part, err.index), stage_problem(err, spec)) from err
    return model


def stage_problem(err: StageError, spec: dict) -> str:
    """What the module that raised ``err`` got and why it failed, for its ``models`` entry
    ``spec``."""
    names = spec[err.part]
    if err.index > 0:
        given = f"the output of {names[err.index - 1]!r}"
    elif err.part == "projector":
        given = f"the flattened output of {spec['encoder'][-1]!r}"
    else:
        given = "the normalised inputs"
    return (
        f"module {names[err.index]!r} fails on {given} (input {err.shape}): "
        f"{error_gist(err.cause)}; allowed: modules that each take the previous one's output, "
        f"the first the inputs of input_shape {spec['input_shape']}"
    )
