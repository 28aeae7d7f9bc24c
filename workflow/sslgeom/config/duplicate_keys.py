"""Checks of the config files as written: a key written twice in one mapping, of which PyYAML
silently keeps the last, is a mistake that the loaded config no longer shows.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

from sslgeom.config.messages import ConfigError, KeyPath, dotted


def find_duplicate_keys(path: Path) -> list[str]:
    """Dotted paths of the keys written twice in one mapping of the YAML file, in file order."""
    return [key_path for key_path, _ in _duplicate_keys(Path(path))]


def check_config_files(paths: Iterable[Path]) -> None:
    """Raise ConfigError for the first key written twice in one mapping of any of the files."""
    for path in paths:
        duplicates = _duplicate_keys(Path(path))
        if duplicates:
            key_path, line = duplicates[0]
            raise ConfigError(
                f"duplicate key {key_path} in {path} (line {line}); each key may appear once"
            )


def _duplicate_keys(path: Path) -> list[tuple[str, int]]:
    """(dotted path, line) of each key written twice in one mapping of the YAML file."""
    root = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    return list(_repeated_keys(root, ())) if root is not None else []


def _repeated_keys(node: yaml.Node, key_path: KeyPath) -> Iterator[tuple[str, int]]:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            child_path = (*key_path, key_node.value)
            if (key_node.tag, key_node.value) in seen:
                yield dotted(child_path), key_node.start_mark.line + 1
            seen.add((key_node.tag, key_node.value))
            yield from _repeated_keys(value_node, child_path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _repeated_keys(item, (*key_path, index))
