"""Fingerprints of library functions, so that Snakemake reruns exactly the jobs whose code changed.

Snakemake reruns a job when its rule's script changes, but not when library code that the
script calls changes. A rule that passes ``code_fingerprint(...)`` as a param is rerun (the
params trigger) when the named functions change, or any module-level definition they use,
followed through ``from sslgeom... import`` into other library modules. The source is parsed,
never imported, so the Snakefile stays quick to load; formatting and comments do not count.
"""

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "sslgeom"


def module_definitions(path: Path) -> dict[str, ast.AST]:
    """Every module-level function, class, assignment and ``sslgeom`` import, by bound name."""
    return _definitions_in(path.read_text(), str(path))


@functools.cache
def _definitions_in(source: str, filename: str) -> dict[str, ast.AST]:
    """Cached by the source itself: each figure rule asks for figures/style.py, parsed once per
    load."""
    definitions = {}
    for node in ast.parse(source, filename=filename).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            definitions[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        definitions[name.id] = node
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{PACKAGE}."):
            for alias in node.names:
                definitions[alias.asname or alias.name] = node
    return definitions


def code_fingerprint(package_dir: str | Path, functions: list[str]) -> str:
    """A short hash of ``functions`` ("module.name" in the package at ``package_dir``) and of
    every module-level definition they use."""
    package_dir = Path(package_dir)
    parsed: dict[str, dict[str, ast.AST]] = {}

    def definition(module: str, name: str) -> ast.AST | None:
        if module not in parsed:
            path = package_dir.joinpath(*module.split("."))
            path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
            parsed[module] = module_definitions(path)
        return parsed[module].get(name)

    pending = [tuple(function.rsplit(".", 1)) for function in functions]
    for module, name in pending:
        if definition(module, name) is None:
            raise LookupError(f"{PACKAGE}.{module} defines no {name!r}")
    parts, seen = [], set()
    while pending:
        module, name = pending.pop()
        node = definition(module, name)
        if (module, name) in seen or node is None:  # None: a builtin, local or third-party name
            continue
        seen.add((module, name))
        if isinstance(node, ast.ImportFrom):
            original = next(a.name for a in node.names if (a.asname or a.name) == name)
            pending.append((node.module.removeprefix(f"{PACKAGE}."), original))
            continue
        parts.append(f"{module}.{name}:{ast.dump(node)}")
        pending += [(module, used.id) for used in ast.walk(node) if isinstance(used, ast.Name)]
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]
