"""Fingerprints of library functions change with their code and with nothing else."""

import textwrap

import pytest
from conftest import REPO

from sslgeom.io.code_fingerprint import code_fingerprint

PLOTS = """
    from sslgeom.style import colour

    SIZE = 3


    def helper(x):
        return x * SIZE


    def plot_a(x):
        return helper(colour(x))


    def plot_b(x):
        return -x
"""
STYLE = """
    def colour(x):
        return x + 1
"""


def write_package(root, plots=PLOTS, style=STYLE):
    root.mkdir()
    (root / "plots.py").write_text(textwrap.dedent(plots))
    (root / "style.py").write_text(textwrap.dedent(style))
    return root


def fingerprint(root):
    return code_fingerprint(root, ["plots.plot_a"])


@pytest.fixture
def original(tmp_path):
    return fingerprint(write_package(tmp_path / "original"))


@pytest.mark.parametrize(
    "plots, style",
    [
        (PLOTS.replace("return helper(", "return 2 * helper("), STYLE),  # the function
        (PLOTS.replace("return x * SIZE", "return x / SIZE"), STYLE),  # a helper it calls
        (PLOTS.replace("SIZE = 3", "SIZE = 4"), STYLE),  # a constant the helper uses
        (PLOTS, STYLE.replace("x + 1", "x + 2")),  # a function imported from another module
    ],
    ids=["function", "helper", "constant", "imported"],
)
def test_changes_with_the_code_it_runs(tmp_path, original, plots, style):
    assert fingerprint(write_package(tmp_path / "edited", plots, style)) != original


@pytest.mark.parametrize(
    "plots",
    [
        PLOTS.replace("return -x", "return +x"),  # another figure's function
        PLOTS.replace("def helper(x):", "def helper(x):  # a comment"),
        PLOTS.replace("return x * SIZE", "return (x *\n            SIZE)"),  # formatting
    ],
    ids=["other function", "comment", "formatting"],
)
def test_ignores_other_functions_comments_and_formatting(tmp_path, original, plots):
    assert fingerprint(write_package(tmp_path / "edited", plots)) == original


def test_unknown_function_is_an_error(tmp_path):
    with pytest.raises(LookupError, match="plot_c"):
        code_fingerprint(write_package(tmp_path / "package"), ["plots.plot_c"])


def test_figures_and_figure_tables_of_the_library_have_fingerprints():
    library = REPO / "workflow" / "sslgeom"
    functions = [
        "figures.core.plot_spectra",
        "figures.identifiability.plot_similarity_heatmap",
        "figures.tables.projector_size",
    ]
    fingerprints = {code_fingerprint(library, [function]) for function in functions}
    assert len(fingerprints) == len(functions) and all(len(f) == 16 for f in fingerprints)


def test_a_module_of_a_subpackage_follows_its_imports(tmp_path):
    root = write_package(tmp_path / "package")
    (root / "figures").mkdir()
    (root / "figures" / "geometry.py").write_text(
        "from sslgeom.plots import plot_a\n\n\ndef plot_c(x):\n    return plot_a(x)\n"
    )
    original = code_fingerprint(root, ["figures.geometry.plot_c"])
    (root / "style.py").write_text(textwrap.dedent(STYLE.replace("x + 1", "x + 2")))
    assert code_fingerprint(root, ["figures.geometry.plot_c"]) != original


def test_a_name_imported_from_a_subpackage_is_followed_into_its_init(tmp_path):
    root = write_package(tmp_path / "package")
    (root / "figures").mkdir()
    (root / "figures" / "__init__.py").write_text("def helper(x):\n    return x + 1\n")
    (root / "figures" / "core.py").write_text(
        "from sslgeom.figures import helper\n\n\ndef plot_d(x):\n    return helper(x)\n"
    )
    original = code_fingerprint(root, ["figures.core.plot_d"])
    (root / "figures" / "__init__.py").write_text("def helper(x):\n    return x + 2\n")
    assert code_fingerprint(root, ["figures.core.plot_d"]) != original
