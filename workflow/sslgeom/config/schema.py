"""Checks against the JSON schemas (``config.schema.yaml``, ``run.schema.yaml``): each missing
key first takes its schema default, as with ``snakemake.utils.validate(config, schema,
set_default=True)``, then the most relevant mistake is reported as one line.
"""

import copy
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from sslgeom.config.messages import error_at, schema_problem


def load_schema(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def run_defaults(schema_dir: Path) -> dict:
    """The default of every run parameter that has one (``run.schema.yaml``)."""
    properties = load_schema(Path(schema_dir) / "run.schema.yaml")["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def _fill_defaults_then_check(validator, properties, instance, schema):
    """The ``properties`` keyword that first sets each missing property to its default."""
    if validator.is_type(instance, "object"):
        for key, subschema in properties.items():
            if "default" in subschema:
                instance.setdefault(key, copy.deepcopy(subschema["default"]))
    yield from Draft202012Validator.VALIDATORS["properties"](
        validator, properties, instance, schema
    )


DefaultFillingValidator = validators.extend(
    Draft202012Validator, {"properties": _fill_defaults_then_check}
)


def schema_error(instance: dict, schema: dict) -> ValidationError | None:
    """The most relevant mistake of ``instance``, after filling in the schema's defaults."""
    return best_match(DefaultFillingValidator(schema).iter_errors(instance))


def check_against_schema(config: dict, schema: dict) -> None:
    error = schema_error(config, schema)
    if error is not None:
        raise error_at(tuple(error.absolute_path), schema_problem(error))
