"""The names of a model's layers, known without building it (no torch import)."""


def projector_layer_names(depth: int) -> list[str]:
    """The layers of a projector of ``depth`` stages: ``proj1``, …, ``projector`` (the output);
    none at depth 0."""
    return [f"proj{index}" for index in range(1, depth)] + (["projector"] if depth else [])


def external_layer_names(spec: dict) -> list[str]:
    """The layers a model of the config's ``models`` section is embedded at."""
    return ["encoder", *projector_layer_names(len(spec["projector"]))]
