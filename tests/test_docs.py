"""The documentation (README.md and docs/) against the repository: every relative link and
#anchor resolves to a file and a heading, every fenced YAML block parses, and every one that is a
config (a top-level ``experiments`` or ``datasets`` key) passes the project's own checks, or,
where the page marks it ``<!-- invalid-config -->``, is refused by them with the message the
page shows after it."""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO
from PIL import Image

from sslgeom.config.validate import ConfigError, validate_config

SCHEMAS = REPO / "workflow" / "schemas"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
INVALID_MARKER = "<!-- invalid-config -->"
CONFIG_KEYS = {"experiments", "datasets"}
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# the README's blocks that .ci/run extracts and runs word for word
CI_BLOCKS = ("run-command", "test-command", "avx2-test-command")


@dataclass
class Block:
    """A fenced code block: its info string, text, first line (1-based) and the last non-blank
    line before its opening fence."""

    info: str
    text: str
    line: int
    before: str


def parse(text: str) -> tuple[list[str], list[Block]]:
    """The lines outside fenced code blocks (those inside become empty, so line numbers hold),
    and the fenced blocks."""
    prose, blocks = [], []
    fence, info, body, start, before, last = None, "", [], 0, "", ""
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is None:
            opening = FENCE.match(line)
            if opening:
                fence, info = opening.group(1), opening.group(2)
                body, start, before = [], number, last
                prose.append("")
                continue
            prose.append(line)
            if line.strip():
                last = line.strip()
        else:
            prose.append("")
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                blocks.append(Block(info, "\n".join(body) + "\n", start + 1, before))
                fence = None
            else:
                body.append(line)
    if fence is not None:
        raise AssertionError(f"a code fence opened at line {start} is never closed")
    return prose, blocks


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text (link targets, backticks and markup
    dropped) in lower case, without punctuation, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a Markdown page, repeated headings numbered as GitHub does."""
    seen: dict[str, int] = {}
    found = set()
    for line in parse(page.read_text(encoding="utf-8"))[0]:
        heading = HEADING.match(line)
        if not heading:
            continue
        anchor = github_anchor(heading.group(2))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of every inline link and image of a page outside code."""
    found = []
    for number, line in enumerate(parse(page.read_text(encoding="utf-8"))[0], start=1):
        for match in LINK.finditer(INLINE_CODE.sub("code", line)):
            found.append((number, match.group(2)))
    return found


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """Each relative link of ``page`` whose file, or whose heading, does not exist."""
    problems = []
    for number, target in links(page):
        if SCHEME.match(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page.resolve()
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"{where} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{where}: no such file")
        elif anchor and resolved.suffix != ".md":
            problems.append(f"{where}: an anchor into a file that is not Markdown")
        elif anchor and anchor not in anchors(resolved):
            problems.append(f"{where}: no heading with that anchor")
    return problems


@dataclass
class Snippet:
    """A fenced YAML block of a page, whether the page marks it invalid, and the block after it."""

    page: Path
    block: Block
    invalid: bool
    shown_error: str | None

    @property
    def config(self):
        return yaml.safe_load(self.block.text)

    @property
    def is_config(self) -> bool:
        config = self.config
        return isinstance(config, dict) and bool(CONFIG_KEYS & set(config))

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.block.line}"


def yaml_snippets(page: Path) -> list[Snippet]:
    blocks = parse(page.read_text(encoding="utf-8"))[1]
    snippets = []
    for index, block in enumerate(blocks):
        if block.info != "yaml":
            continue
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        shown = after.text.strip() if after is not None and after.info == "text" else None
        snippets.append(Snippet(page, block, block.before == INVALID_MARKER, shown))
    return snippets


SNIPPETS = [snippet for page in PAGES for snippet in yaml_snippets(page)]
CONFIGS = [snippet for snippet in SNIPPETS if snippet.is_config]


def stand_in_sources(config: dict, workdir: Path) -> None:
    """Write, under ``workdir``, a stand-in for every image folder and npz file the config's
    datasets read (three classes of identical 32×32 images), large enough for the default
    embedding and geometry settings: the checks open their headers."""
    for parameters in config.get("datasets", {}).values():
        if not isinstance(parameters, dict):
            continue
        if "folder" in parameters:
            image = workdir / "image.png"
            Image.fromarray(np.full((32, 32, 3), 128, dtype=np.uint8)).save(image)
            png = image.read_bytes()
            for label in ("a", "b", "c"):
                folder = workdir / parameters["folder"] / label
                folder.mkdir(parents=True, exist_ok=True)
                for index in range(1000):
                    (folder / f"{index}.png").write_bytes(png)
        if "npz" in parameters:
            path = workdir / parameters["npz"]
            path.parent.mkdir(parents=True, exist_ok=True)
            labels = np.arange(3000) % 3
            np.savez(path, images=np.zeros((3000, 32, 32, 3), dtype=np.uint8), labels=labels)


# --- the documentation ------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[str(s) for s in SNIPPETS])
def test_every_yaml_block_parses(snippet):
    snippet.config  # noqa: B018 (raises on invalid YAML)


@pytest.mark.parametrize("snippet", CONFIGS, ids=[str(s) for s in CONFIGS])
def test_every_config_shown_passes_the_checks_or_is_marked_invalid(snippet, tmp_path, monkeypatch):
    config = snippet.config
    stand_in_sources(config, tmp_path)
    monkeypatch.chdir(tmp_path)
    if snippet.invalid:
        with pytest.raises(ConfigError) as refused:
            validate_config(config, SCHEMAS)
        if snippet.shown_error is not None:
            assert str(refused.value) == snippet.shown_error
    else:
        runs = validate_config(config, SCHEMAS)
        assert runs and all(runs.values()), f"{snippet}: an experiment without runs"


def test_the_pages_show_configs_and_a_refused_one():
    """The collection finds the configs the pages show, so the check above cannot pass by
    finding none."""
    assert len(CONFIGS) >= 4
    assert any(snippet.invalid for snippet in CONFIGS)


def test_every_invalid_config_marker_precedes_a_config():
    marked = sum(page.read_text(encoding="utf-8").count(INVALID_MARKER) for page in PAGES)
    assert marked == sum(snippet.invalid for snippet in CONFIGS)


def test_the_readme_keeps_the_blocks_ci_runs():
    """.ci/run extracts these blocks from the README by their markers and runs them."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for name in CI_BLOCKS:
        found = re.findall(rf"^<!-- {name} -->\n```bash\n(.+)\n```\n<!-- /{name} -->$", text, re.M)
        assert len(found) == 1, name


# --- the checks themselves can fail -------------------------------------------------------------


def test_github_anchors():
    assert github_anchor("Performance on a GPU") == "performance-on-a-gpu"
    assert github_anchor("Results: the default experiment (`config.yaml`)") == (
        "results-the-default-experiment-configyaml"
    )
    assert github_anchor("What converges with what, at this scale") == (
        "what-converges-with-what-at-this-scale"
    )
    assert github_anchor("Real datasets: CIFAR-10, CIFAR-100, STL-10") == (
        "real-datasets-cifar-10-cifar-100-stl-10"
    )
    assert github_anchor("See [the claims](claims.md)") == "see-the-claims"


def test_broken_links_are_found(tmp_path):
    (tmp_path / "other.md").write_text("# A heading\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#a-heading) [fine](other.md#twice-1) [fine](#page) "
        "[web](https://example.org/missing)\n"
        "[gone](missing.md) [no anchor](other.md#nowhere) [no anchor here](#nowhere)\n"
        "`[in code](missing.md)`\n\n"
        "```\n[in a block](missing.md)\n```\n"
    )
    problems = broken_links(page, root=tmp_path)
    assert [p.split(": ", 1)[0] for p in problems] == ["page.md:4"] * 3
    targets = [p.split(": ")[1] for p in problems]
    assert targets == ["missing.md", "other.md#nowhere", "#nowhere"]


def test_snippets_know_configs_and_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```yaml\nepochs: 3\n```\n\n"
        f"{INVALID_MARKER}\n```yaml\ndatasets: {{shapes: {{}}}}\n```\n\n"
        "```text\nthe message\n```\n"
    )
    fragment, config = yaml_snippets(page)
    assert not fragment.is_config and not fragment.invalid
    assert config.is_config and config.invalid and config.shown_error == "the message"


def test_a_config_missing_its_experiments_is_refused():
    with pytest.raises(ConfigError, match="missing key 'experiments'"):
        validate_config({"datasets": {"shapes": {}}}, SCHEMAS)
