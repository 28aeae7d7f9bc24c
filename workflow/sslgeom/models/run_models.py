"""A run's models: built from its settings, read back from its ``model.pt`` (the final model and
its snapshots), or loaded from the config's ``models`` section (trained elsewhere)."""

from dataclasses import dataclass

import torch

from sslgeom.io.artifacts import EPOCH_TRAINED_ELSEWHERE, rebuild_hint
from sslgeom.models import SSLModel, build_model
from sslgeom.models.external import checked_external_model

MODEL_SETTINGS = (
    "backbone",
    "encoder_width",
    "encoder_blocks",
    "encoder_stem_stride",
    "mlp_dims",
    "vit_patch_size",
    "vit_depth",
    "vit_width",
    "vit_heads",
    "vit_mlp_ratio",
    "vit_pooling",
    "projector_depth",
    "projector_hidden_dim",
    "projector_out_dim",
    "output_normalization",
)


def model_from_settings(settings: dict, input_shape: tuple[int, ...]) -> SSLModel:
    """The run's model for inputs of ``input_shape`` (a stored example's shape); channels-last
    memory, which is about twice as fast on CPU convolutions. A setting that an older
    ``model.pt`` does not record takes :func:`build_model`'s default, the model it trained."""
    model = build_model(
        input_shape, **{key: settings[key] for key in MODEL_SETTINGS if key in settings}
    )
    return model.to(memory_format=torch.channels_last)


def read_model_file(model_path: str, device: torch.device) -> dict:
    """The contents of a run's ``model.pt``, its tensors on ``device`` (unpickled with
    ``weights_only``: tensors and plain containers only)."""
    try:
        return torch.load(model_path, map_location=device, weights_only=True)
    except Exception as err:
        raise ValueError(
            f"cannot read the checkpoint {model_path} ({err}); "
            f"{rebuild_hint('pretrain', model_path)}"
        ) from err


def models_of(state: dict, device: torch.device) -> dict[int | str, SSLModel]:
    """The final model (key ``"final"``) and each snapshot (key: its epoch) of a run's
    ``model.pt`` (as :func:`read_model_file` reads it)."""
    weights = {"final": state["model"], **state.get("snapshots", {})}
    models = {}
    for key, model_state in weights.items():
        model = model_from_settings(state["settings"], tuple(state["input_shape"])).to(device)
        model.load_state_dict(model_state)
        models[key] = model.eval()
    return models


def load_model(model_path: str, device: torch.device) -> SSLModel:
    return models_of(read_model_file(model_path, device), device)["final"]


@dataclass
class RunModels:
    """What a run's embeddings are made from: its settings, its final model, its snapshots
    (epoch → model) and the final model's epoch (:data:`EPOCH_TRAINED_ELSEWHERE` for a model
    of the config's ``models`` section)."""

    settings: dict
    final: SSLModel
    snapshots: dict[int, SSLModel]
    final_epoch: int
    external_name: str | None = None
    external_input_shape: list[int] | None = None


def trained_run_models(model_path: str, device: torch.device) -> RunModels:
    """A pipeline-trained run's models, from its ``model.pt``."""
    state = read_model_file(model_path, device)
    models = models_of(state, device)
    final = models.pop("final")
    return RunModels(state["settings"], final, models, state["epoch"])


def external_run_models(
    model_name: str, spec: dict, settings: dict, device: torch.device
) -> RunModels:
    """The run of ``model_name``, a model trained elsewhere (``spec``: its ``models`` entry),
    checked as the config check does (a ConfigError where its file changed since);
    :func:`embed_run` checks its input shape against the dataset."""
    model = checked_external_model(model_name, spec, device)
    return RunModels(settings, model, {}, EPOCH_TRAINED_ELSEWHERE, model_name, spec["input_shape"])
