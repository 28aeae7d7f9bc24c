"""One-line config messages: :class:`ConfigError` names the dotted path of the offending key
and what is wrong there, and :func:`schema_problem` turns a jsonschema ValidationError into what
is wrong with its value and what is allowed instead (unknown keys with a guess at the intended
one, wrong types, values outside an enum or a numeric range, empty lists and mappings)::

    config error at experiments.tiny.grid.strength[1]: 1.5 is out of range; allowed: 0 ≤ value ≤ 1
"""

import difflib

from jsonschema.exceptions import ValidationError

TYPE_NAMES = {"array": "list", "object": "mapping"}
LOWER_BOUNDS = {"minimum": "≥", "exclusiveMinimum": ">"}
UPPER_BOUNDS = {"maximum": "≤", "exclusiveMaximum": "<"}
MIRRORED = {"≥": "≤", ">": "<"}

KeyPath = tuple[str | int, ...]


class ConfigError(ValueError):
    """A config mistake: one line naming the offending key and what is allowed there."""


def error_at(key_path: KeyPath, problem: str) -> ConfigError:
    return ConfigError(f"config error at {dotted(key_path)}: {problem}")


def dotted(key_path: KeyPath) -> str:
    """``("grid", "strength", 1)`` → ``grid.strength[1]``; the empty path is the top level."""
    text = ""
    for key in key_path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else str(key)
    return text or "top level"


def schema_problem(error: ValidationError) -> str:
    """What is wrong with the value ``error`` is about, and what is allowed instead."""
    describe = PROBLEMS.get(error.validator, lambda error: error.message)
    return describe(error)


def _unknown_key_problem(error: ValidationError) -> str:
    key = unknown_keys(error)[0]
    allowed = sorted(error.schema["properties"]) + [
        pattern.strip("^$") for pattern in error.schema.get("patternProperties", {})
    ]
    guesses = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
    return f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}"


def unknown_keys(error: ValidationError) -> list:
    return [key for key in error.instance if key not in error.schema["properties"]]


def missing_keys(error: ValidationError) -> list[str]:
    return [key for key in error.validator_value if key not in error.instance]


def schema_types(error: ValidationError) -> list[str]:
    types = error.schema.get("type", [])
    return [types] if isinstance(types, str) else types


def _type_problem(error: ValidationError) -> str:
    expected = " or ".join(TYPE_NAMES.get(name, name) for name in schema_types(error))
    return f"{error.instance!r} has the wrong type; expected {expected}"


def _enum_problem(error: ValidationError) -> str:
    allowed = ", ".join(str(value) for value in error.validator_value)
    return f"{error.instance!r} is not allowed; allowed values: {allowed}"


def _range_problem(error: ValidationError) -> str:
    return f"{error.instance!r} is out of range; allowed: {_allowed_range(error.schema)}"


def _allowed_range(schema: dict) -> str:
    """A schema's numeric bounds as an inequality: ``0 ≤ value ≤ 1`` or ``value > 0``."""
    lower = [(sign, schema[key]) for key, sign in LOWER_BOUNDS.items() if key in schema]
    upper = [(sign, schema[key]) for key, sign in UPPER_BOUNDS.items() if key in schema]
    if lower and upper:
        (lower_sign, low), (upper_sign, high) = lower[0], upper[0]
        return f"{low} {MIRRORED[lower_sign]} value {upper_sign} {high}"
    return " and ".join(f"value {sign} {bound}" for sign, bound in lower + upper)


def _too_few_items_problem(error: ValidationError) -> str:
    if not error.instance:
        return "empty list; give at least one value"
    return f"{len(error.instance)} items; give at least {error.validator_value}"


def _too_few_keys_problem(error: ValidationError) -> str:
    if "properties" in error.schema:
        return f"empty mapping; give at least one of {', '.join(error.schema['properties'])}"
    description = error.schema.get("description")
    return "empty mapping; give at least one entry" + (f" ({description})" if description else "")


def _pattern_problem(error: ValidationError) -> str:
    if "propertyNames" in error.absolute_schema_path:
        return f"invalid name {error.instance!r}; allowed: names matching {error.validator_value}"
    return f"{error.instance!r} is not allowed; allowed: strings matching {error.validator_value}"


PROBLEMS = {
    "additionalProperties": _unknown_key_problem,
    "required": lambda error: f"missing key {missing_keys(error)[0]!r}",
    "type": _type_problem,
    "enum": _enum_problem,
    **dict.fromkeys([*LOWER_BOUNDS, *UPPER_BOUNDS], _range_problem),
    "minItems": _too_few_items_problem,
    "minProperties": _too_few_keys_problem,
    "pattern": _pattern_problem,
}
