"""The house plan and its plugins.

The plan is the table under "The house" in CONTRIBUTING.md: each row names folders and what they may import; the
rows of fixtures/ and reports/ are the layers, lowest first.  The code is held to it: every folder of fixtures/ (and
reports/) has a row and every row a folder, every import in fixtures/ and reports/ (imports inside functions
included) stays in its own unit or goes to one its row names, and a row names only layers above it, so no two units
import each other; nor do two modules, directly or round a circle.  The pytest plugins are fixtures/plugins/, one
concern a module as pytest's own, each listed once in ``PLUGINS`` and short enough to read in one sitting.  In
fixtures/ and reports/, an import inside a function says why it is not at the top: the module is optional or heavy.
"""

import ast
import io
import re
import subprocess
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vkmap_cts.fixtures.plugins import PLUGINS

ROOT = Path(__file__).resolve().parents[2]

HOUSE = ROOT / "CONTRIBUTING.md"


@dataclass
class Plan:
    """The house plan as CONTRIBUTING.md's table says it."""

    layers: list[list[str]] = field(default_factory=list)  # the units ("fixtures.vk") of each layer row, lowest first
    allowed: dict[str, set[str]] = field(default_factory=dict)  # unit -> the units its row says it may import
    others: list[str] = field(default_factory=list)  # the rows that are no layer: suites/, ci/, conftest.py...
    errors: list[str] = field(default_factory=list)  # a row that lets a layer import one not above it

    @property
    def level(self) -> dict[str, int]:
        return {unit: n for n, units in enumerate(self.layers) for unit in units}


def parse_plan(text: str) -> Plan:
    """The table of the section "## The house" of ``text``: a row whose paths are folders of fixtures/ (or reports/
    itself) is a layer; its "may import" names layers of the rows above it by their folder's name (`vk`), or says
    "every layer above"."""
    section = text.split("\n## The house\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    plan, short = Plan(), {}
    for cells in rows[2:]:  # after the header and its rule
        paths = re.findall(r"`([^`]+)`", cells[0])
        if not all(p.endswith("/") and (p.startswith("fixtures/") or p == "reports/") for p in paths):
            plan.others += paths
            continue
        units = [p.rstrip("/").replace("/", ".") for p in paths]
        if "every layer above" in cells[-1]:
            may = set(short.values())
        else:
            names = re.findall(r"`([^`]+)`", cells[-1])
            plan.errors += [
                f"{', '.join(paths)} may import `{n}`, which is no layer above it" for n in names if n not in short
            ]
            may = {short[n] for n in names if n in short}
        for unit in units:
            plan.allowed[unit] = may
        plan.layers.append(units)
        short.update({u.rsplit(".", 1)[-1]: u for u in units})
    return plan


PLAN = parse_plan(HOUSE.read_text())
LEVEL = PLAN.level


def unit_of(module: str, plan: Plan = PLAN) -> str | None:
    """The unit a ``vkmap_cts.*`` module belongs to (the longest prefix the plan lists), or None for the root."""
    name = module.removeprefix("vkmap_cts.")
    found = [u for u in plan.level if name == u or name.startswith(u + ".")]
    return max(found, key=len) if found else None


def module_of(path: Path) -> str:
    """The import name of a source file of the checkout."""
    return "vkmap_cts." + ".".join(path.relative_to(ROOT).with_suffix("").parts)


def name_of(path: Path) -> str:
    """The import name of a module of the checkout (a package's for its __init__.py)."""
    return module_of(path).removesuffix(".__init__")


def is_module(name: str) -> bool:
    """Whether ``vkmap_cts.<name>`` is a module or package of the checkout."""
    rel = ROOT.joinpath(*name.removeprefix("vkmap_cts.").split("."))
    return rel.with_name(rel.name + ".py").is_file() or (rel / "__init__.py").is_file()


def imports(path: Path, text: str | None = None) -> set[str]:
    """Every vkmap_cts module a source file (or ``text`` in its place) imports, wherever the import statement
    stands; ``from package import name`` imports the module package.name where there is one, else the package."""
    module = module_of(path)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    out = set()
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([node.module] if node.module else [])
                )
            out |= {
                f"{base}.{a.name}" if base == "vkmap_cts" or is_module(f"{base}.{a.name}") else base for a in node.names
            }
    return {m for m in out if m.startswith("vkmap_cts.")}


# The two package roots (fixtures/__init__.py, reports/__init__.py) hold no code of a layer.
SOURCES = sorted(
    p for top in ("fixtures", "reports") for p in (ROOT / top).rglob("*.py") if p != ROOT / top / "__init__.py"
)


def upward(path: Path, text: str | None = None, plan: Plan = PLAN) -> list[str]:
    """The imports of ``path`` (or ``text`` in its place) into another unit that its row of the plan does not
    name."""
    own = unit_of(module_of(path), plan)
    bad = []
    for target in sorted(imports(path, text)):
        unit = unit_of(target, plan)
        if unit is not None and unit != own and unit not in plan.allowed.get(own, set()):
            bad.append(f"{own} imports {target} ({unit}): the plan's row of {own} does not allow it")
    return bad


def units_in_code(root: Path = ROOT) -> set[str]:
    """The units the code has: each folder of fixtures/ that holds a module, and reports/."""
    return {"reports"} | {f"fixtures.{d.name}" for d in (root / "fixtures").iterdir() if any(d.glob("*.py"))}


def top_level_names(root: Path = ROOT) -> set[str] | None:
    """The top-level names of the checkout that git keeps or would add (ignored ones left out), but for the
    hidden ones and the documents (*.md); None where git cannot tell."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    tops = {line.split("/", 1)[0] + ("/" if "/" in line else "") for line in out.splitlines()}
    return {n for n in tops if not n.startswith(".") and not n.endswith(".md")}


def plan_against_checkout(plan: Plan, code: set[str], names: set[str] | None, root: Path = ROOT) -> list[str]:
    """Where the plan and the checkout differ: a folder of the code without a row, a row without a folder, a row
    that is no layer naming what is not there, and a top-level name (of ``names``) that no row names."""
    planned = set(plan.level)
    found = [f"{u.replace('.', '/')}/ is in the code but not in the plan" for u in sorted(code - planned)]
    found += [f"{u.replace('.', '/')}/ is in the plan but not in the code" for u in sorted(planned - code)]
    found += [f"{p} is in the plan but not in the checkout" for p in plan.others if not (root / p).exists()]
    tops = {u.split(".", 1)[0] + "/" for u in planned} | set(plan.others)
    found += [f"{n} is in the checkout but not in the plan" for n in sorted((names or set()) - tops)]
    return found


def test_the_plan_lets_each_layer_import_only_layers_above_it():
    """A row's "may import" names only layers of the rows above it: no peer, nothing higher."""
    assert PLAN.errors == []


def test_the_plan_and_the_checkout_list_the_same_folders():
    """Every folder of fixtures/ (and reports/) has its row in the plan and every row its folder; every top-level
    name is in the plan."""
    assert plan_against_checkout(PLAN, units_in_code(), top_level_names()) == []


def test_every_source_file_has_a_layer():
    """A new folder of fixtures/ or reports/ must be given its row in the plan."""
    assert all(unit_of(module_of(p)) for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_imports_go_down_the_layers(path):
    """No import goes into another unit that the plan's row of its own does not name."""
    assert upward(path) == []


def test_an_upward_import_is_caught():
    """Self-test of the check: a rules module that imports the plugins, or a judge that imports a peer unit, is
    reported."""
    rules = ROOT / "fixtures" / "rules" / "catalogue.py"
    text = "from vkmap_cts.fixtures.plugins import options\nfrom vkmap_cts.fixtures.rules import validity\n"
    assert upward(rules, text) == [
        "fixtures.rules imports vkmap_cts.fixtures.plugins.options (fixtures.plugins): the plan's row of "
        "fixtures.rules does not allow it"
    ]
    judge = ROOT / "fixtures" / "judge" / "oracles.py"
    text = "def f():\n    from ..provoke import provocation\n"
    assert upward(judge, text) == [
        "fixtures.judge imports vkmap_cts.fixtures.provoke.provocation (fixtures.provoke): the plan's row of "
        "fixtures.judge does not allow it"
    ]


def _edited_plan(old: str, new: str) -> Plan:
    """The plan of CONTRIBUTING.md with one row edited (``old`` must be in it)."""
    text = HOUSE.read_text()
    assert old in text
    return parse_plan(text.replace(old, new, 1))


def test_a_wrong_plan_is_caught():
    """Self-test of the comparison: a plan whose judge row leaves out `access` (which judge's oracles import), one
    without the judge floor's row, one with a row of a folder the code lacks, and one that lets a layer import its
    peer each fail it."""
    judge_row = "| `vk`, `rules`, `access`, `reproduce` |\n"
    fewer = _edited_plan(judge_row, "| `vk`, `rules`, `reproduce` |\n")
    assert (
        "fixtures.judge imports vkmap_cts.fixtures.access.driver (fixtures.access): the plan's row of fixtures.judge "
        "does not allow it"
    ) in upward(ROOT / "fixtures" / "judge" / "oracles.py", plan=fewer)
    assert fewer.errors == [] and plan_against_checkout(fewer, units_in_code(), None) == []

    judge_floor = next(line for line in HOUSE.read_text().splitlines() if line.startswith("| `fixtures/judge/`"))
    missing = _edited_plan(judge_floor + "\n", "")
    assert plan_against_checkout(missing, units_in_code(), None) == [
        f"fixtures/{room}/ is in the code but not in the plan" for room in ("crosscheck", "judge", "provoke")
    ]
    assert not all(unit_of(module_of(p), missing) for p in SOURCES)

    ghost = _edited_plan("`fixtures/crosscheck/` |", "`fixtures/crosscheck/`, `fixtures/ghost/` |")
    assert plan_against_checkout(ghost, units_in_code(), None) == ["fixtures/ghost/ is in the plan but not in the code"]

    peer = _edited_plan(judge_row, "| `vk`, `rules`, `access`, `reproduce`, `provoke` |\n")
    assert peer.errors == [
        "fixtures/judge/, fixtures/provoke/, fixtures/crosscheck/ may import `provoke`, which is no layer above it"
    ]

    stray = plan_against_checkout(PLAN, units_in_code(), {"fixtures/", "notes/"})
    assert stray == ["notes/ is in the checkout but not in the plan"]


REPORTS = [p for p in SOURCES if unit_of(module_of(p)) == "reports"]


def test_reports_import_nothing_from_the_plugins():
    """reports/ reads and writes result files; the pytest plugins that produce them use it, never the other way."""
    assert [
        f"{p.relative_to(ROOT)} imports {m}"
        for p in REPORTS
        for m in sorted(imports(p))
        if unit_of(m) == "fixtures.plugins"
    ] == []


# -- no circles: no two modules import each other, directly or round a circle ----------------------


def import_graph(texts: dict[Path, str] | None = None) -> dict[str, set[str]]:
    """Each module of fixtures/ and reports/ -> the modules of theirs it imports, anywhere in its text
    (``texts`` stand in for the files they name)."""
    texts = texts or {}
    names = {name_of(p) for p in SOURCES}
    return {name_of(p): {m for m in imports(p, texts.get(p)) if m in names and m != name_of(p)} for p in SOURCES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The sets of modules that import each other, directly or round a circle (the strongly connected
    components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(members) > 1:
                found.append(sorted(members))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_modules_import_each_other():
    """No circle of imports, hidden in a function or not: each module can be read after what it uses."""
    assert circles(import_graph()) == []


def test_a_circle_is_caught():
    """Self-test of the check: a reproducers plugin that imports isolation inside a function closes a circle."""
    path = ROOT / "fixtures" / "plugins" / "reproducers.py"
    text = path.read_text() + "\n\ndef _in_a_child(item):\n    from vkmap_cts.fixtures.plugins import isolation\n"
    assert circles(import_graph({path: text})) == [
        ["vkmap_cts.fixtures.plugins.isolation", "vkmap_cts.fixtures.plugins.reproducers"]
    ]


# -- the plugins: one concern a module, each listed once, each short -------------------------------

PLUGIN_FILES = sorted((ROOT / "fixtures" / "plugins").glob("*.py"))
# The modules of fixtures/plugins/ that are no plugin of a run, and what each is.
HELPERS = {
    "__init__": "the lists of plugins (PLUGINS)",
    "child": "the command of a child pytest that runs one test alone",
    "console": "the vkmap-cts command",
    "entry": "the installed package's pytest11 entry point, which loads PLUGINS",
}
MAX_LINES = 200


def test_every_plugin_module_is_listed_once():
    """PLUGINS lists each module of fixtures/plugins/ once, but for the helpers HELPERS names."""
    listed = [name.removeprefix("vkmap_cts.fixtures.plugins.") for name in PLUGINS]
    assert sorted(listed) == sorted(set(listed))
    assert sorted(listed) == sorted(p.stem for p in PLUGIN_FILES if p.stem not in HELPERS)


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=[p.name for p in PLUGIN_FILES])
def test_a_plugin_module_reads_in_one_sitting(path):
    """Each module of fixtures/plugins/ stays under MAX_LINES lines: a module that grows past it holds more than one
    concern."""
    assert len(path.read_text().splitlines()) < MAX_LINES


# -- imports inside functions say why ------------------------------------------------------------

# Every module of fixtures/ (each layer, the plugins included) and reports/.
EXPLAINED = SOURCES
REASONS = ("optional", "heavy")


def unexplained_local_imports(path: Path, text: str | None = None) -> list[str]:
    """The imports inside a function of ``path`` (or ``text``) whose comment, on the import or in the comment
    lines just above it, does not say that the module is optional or heavy."""
    text = path.read_text() if text is None else text
    lines = text.splitlines()
    comments = {
        t.start[0]: t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT
    }
    bad = []
    for fn in ast.walk(ast.parse(text)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            said = [comments.get(n, "") for n in range(node.lineno, node.end_lineno + 1)]
            above = node.lineno - 1  # the comment block just above it, however many lines it wraps to
            while above >= 1 and lines[above - 1].lstrip().startswith("#"):
                said.append(comments.get(above, ""))
                above -= 1
            if not any(reason in c.lower() for c in said for reason in REASONS):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return sorted(set(bad))


@pytest.mark.parametrize("path", EXPLAINED, ids=[str(p.relative_to(ROOT)) for p in EXPLAINED])
def test_an_import_inside_a_function_says_why(path):
    """An import stands at the top of its module unless the module is optional or heavy, and its comment says which."""
    assert unexplained_local_imports(path) == []


def test_an_unexplained_local_import_is_caught():
    """Self-test of the check: an import inside a function without a reason is reported, one with a reason is not."""
    path = ROOT / "reports" / "model.py"
    assert unexplained_local_imports(path, "def f():\n    import json\n") == ["reports/model.py:2: import json"]
    assert unexplained_local_imports(path, "def f():\n    import json  # heavy: a big module\n") == []
    assert (
        unexplained_local_imports(path, "def f():\n    # optional: not every install has it\n    import yaml\n") == []
    )
    wrapped = "def f():\n    # optional: not every install\n    # has it\n    import yaml\n"
    assert unexplained_local_imports(path, wrapped) == []  # a reason in a comment block wrapped over two lines
    unrelated = "def f():\n    # optional: not every install has it\n    x = 1\n    import yaml\n"
    assert unexplained_local_imports(path, unrelated) == ["reports/model.py:4: import yaml"]
    vk = ROOT / "fixtures" / "vk" / "state.py"
    assert unexplained_local_imports(
        vk, "class C:\n    def f(self):\n        from vkmap_cts.fixtures.vk import abi\n"
    ) == ["fixtures/vk/state.py:3: from vkmap_cts.fixtures.vk import abi"]


def test_every_layer_of_fixtures_is_checked_for_local_imports():
    """The check on imports inside functions covers every unit of fixtures/ (each layer, not only the plugins) and
    reports/."""
    assert {unit_of(module_of(p)) for p in EXPLAINED} == set(LEVEL)
