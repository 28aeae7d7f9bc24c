"""Each rule's conda environment provides every third-party package its script imports.

conda is not available here, so the env files are checked statically: the imports of each rule's
script, followed through the sslgeom modules it imports (and their parent packages), must all be
named in the env file its ``conda:`` directive points to.
"""

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

WORKFLOW = REPO / "workflow"
# Import name → conda / PyPI package name, where the two differ.
PACKAGE_NAMES = {"torch": "pytorch", "sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow"}
RULE_START = re.compile(r"^\s*rule\b", re.MULTILINE)
QUOTED_AFTER = r'{}:\s*\n\s*"([^"]+)"'


def rules_with_envs() -> dict[str, tuple[Path, Path]]:
    """'<rules file>:<rule>' → (env file, script) for every rule with a conda directive."""
    found = {}
    for smk in sorted((WORKFLOW / "rules").glob("*.smk")):
        for chunk in RULE_START.split(smk.read_text())[1:]:
            conda = re.search(QUOTED_AFTER.format("conda"), chunk)
            script = re.search(QUOTED_AFTER.format("script"), chunk)
            if conda and script:
                script_path = (smk.parent / script.group(1)).resolve()
                env_path = (smk.parent / conda.group(1)).resolve()
                # a rule made in a loop is anonymous and named by its name: directive
                rule = re.match(r"\s*(\w*)", chunk).group(1) or script_path.name
                found[f"{smk.name}:{rule}"] = (env_path, script_path)
    return found


def third_party_imports(script: Path) -> set[str]:
    """Top-level names of the non-stdlib, non-sslgeom modules that running ``script`` imports."""
    found, seen, pending = set(), set(), [script]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == "sslgeom":
                pending.extend(sslgeom_files(module))
            elif top not in sys.stdlib_module_names:
                found.add(top)
    return found


def imported_modules(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file; ``from m import x`` gives m and m.x."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def sslgeom_files(module: str) -> list[Path]:
    """The files that importing ``module`` runs: each package's __init__.py, then the module."""
    parts, files = module.split("."), []
    for end in range(1, len(parts) + 1):
        base = WORKFLOW.joinpath(*parts[:end])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                files.append(candidate)
    return files


def env_packages(env_file: Path) -> set[str]:
    """Package names in an env file; the editable install of this repository counts as sslgeom."""
    names = set()
    for entry in yaml.safe_load(env_file.read_text())["dependencies"]:
        for spec in entry["pip"] if isinstance(entry, dict) else [entry]:
            names.add("sslgeom" if spec.startswith("-e ") else re.split(r"[=<>!~ ]", spec)[0])
    return names


RULES = rules_with_envs()


def test_every_rule_with_a_script_has_a_conda_env():
    scripts = sum(smk.read_text().count("script:") for smk in (WORKFLOW / "rules").glob("*.smk"))
    assert len(RULES) == scripts
    assert {env.name for env, _ in RULES.values()} == {"training.yaml", "analysis.yaml"}


@pytest.mark.parametrize("rule", RULES)
def test_rule_env_names_every_package_its_script_imports(rule):
    env_file, script = RULES[rule]
    needed = {PACKAGE_NAMES.get(name, name) for name in third_party_imports(script)}
    missing = needed - env_packages(env_file)
    assert not missing, f"{env_file.name} lacks {sorted(missing)}, imported by {script.name}"
    assert "sslgeom" in env_packages(env_file)


@pytest.mark.parametrize("env_file", sorted((REPO / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_major_versions(env_file):
    unpinned = [
        spec
        for entry in yaml.safe_load(env_file.read_text())["dependencies"]
        for spec in (entry["pip"] if isinstance(entry, dict) else [entry])
        if spec != "pip" and not spec.startswith("-e ") and not re.search(r"=\d", spec)
    ]
    assert not unpinned, f"{env_file.name}: no major version for {unpinned}"
