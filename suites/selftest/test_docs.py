"""The README and the pages of docs/: every relative link names a file of the checkout (and a heading of it, where it
names one), the README links every page of docs/, and it stays a five-minute read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_LINES = 150  # the README is read in five minutes; the rest is in docs/

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto: ...: not a file of the checkout


def documents(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def prose(text: str) -> list[str]:
    """The lines of a Markdown text that may hold a link: fenced and indented code blocks left out, and inline code
    spans blanked."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith(("    ", "\t")):
            continue
        out.append(re.sub(r"`[^`]*`", "``", line))
    return out


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in prose(path.read_text()) if re.match(r"#{1,6} ", line)}


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Each relative link of ``path`` whose file is not in the checkout, or whose heading is not in its file."""
    found = []
    for line in prose(path.read_text()):
        for target in LINK.findall(line):
            if SCHEME.match(target):
                continue
            file, _, anchor = target.partition("#")
            where = (path.parent / file).resolve() if file else path
            name = f"{path.relative_to(root)}: ({target})"
            if not where.is_file() or root.resolve() not in where.parents:
                found.append(f"{name}: no such file in the checkout")
            elif anchor and where.suffix == ".md" and anchor not in anchors(where):
                found.append(f"{name}: {where.relative_to(root.resolve())} has no heading '{anchor}'")
    return found


def test_every_relative_link_resolves():
    """Every relative link of the README and of docs/*.md names a file of the checkout, and a heading it has."""
    assert [problem for path in documents() for problem in broken_links(path)] == []


def test_a_bad_link_is_caught(tmp_path):
    """A link to a missing page, to a missing heading, or to a file outside the checkout is reported; links in code,
    and web links, are not checked."""
    root = tmp_path / "checkout"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "page.md").write_text("# A page\n\n## The gate\n")
    (tmp_path / "outside.md").write_text("# Outside\n")
    (root / "docs" / "escape.md").write_text("# Escape\n\n[up](../../outside.md)\n")
    readme = root / "README.md"
    readme.write_text(
        "# Title\n\n"
        "[fine](docs/page.md) and [fine too](docs/page.md#the-gate), [here](#title), [web](https://example.org/x)\n"
        "[gone](docs/gone.md) and [no heading](docs/page.md#the-gates)\n"
        "`[code](docs/code.md)`\n\n"
        "    [indented code](docs/indented.md)\n\n"
        "```\n[fenced](docs/fenced.md)\n```\n"
    )
    assert broken_links(readme, root) == [
        "README.md: (docs/gone.md): no such file in the checkout",
        "README.md: (docs/page.md#the-gates): docs/page.md has no heading 'the-gates'",
    ]
    assert broken_links(root / "docs" / "escape.md", root) == [
        "docs/escape.md: (../../outside.md): no such file in the checkout"
    ]


def test_the_readme_links_every_page_of_docs_and_stays_short():
    """The README is a five-minute read (at most README_LINES lines), and every page of docs/ is linked from it."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_LINES, "README.md: move the detail into a page of docs/"
    linked = {(ROOT / t.partition("#")[0]).resolve() for line in prose(text) for t in LINK.findall(line)}
    assert [p.name for p in documents()[1:] if p.resolve() not in linked] == []


def test_each_page_says_what_it_holds():
    """Each page of docs/ opens with its title and a statement of what it holds."""
    for page in documents()[1:]:
        lines = page.read_text().splitlines()
        assert lines[0].startswith("# ") and lines[1] == "" and lines[2].strip(), page.name
