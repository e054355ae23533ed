"""The house's layers: every import in fixtures/ and reports/ goes down the list below or stays in
its own unit (imports inside functions included), so no two units import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first: the driver's ABI and loader; the rules; access to the driver and reproducers; the
# judges and provocations; results and reports; the pytest plugins; the reports plugin on top.
LAYERS = [
    ["fixtures.vk"],
    ["fixtures.rules"],
    ["fixtures.access", "fixtures.reproduce"],
    ["fixtures.judge", "fixtures.provoke"],
    ["reports"],
    ["fixtures.plugins"],
    ["reports.plugin"],
]
LEVEL = {unit: n for n, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str | None:
    """The unit a ``vkmap_cts.*`` module belongs to (the longest listed prefix), or None for the root."""
    name = module.removeprefix("vkmap_cts.")
    found = [u for u in LEVEL if name == u or name.startswith(u + ".")]
    return max(found, key=len) if found else None


def module_of(path: Path) -> str:
    """The import name of a source file of the checkout."""
    return "vkmap_cts." + ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imports(path: Path, text: str | None = None) -> set[str]:
    """Every vkmap_cts module a source file (or ``text`` in its place) imports, wherever the import statement stands."""
    module = module_of(path)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    out = set()
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([node.module] if node.module else []))
            out |= {f"{base}.{a.name}" for a in node.names} if base == "vkmap_cts" else {base}
    return {m for m in out if m.startswith("vkmap_cts.")}


# The two package roots (fixtures/__init__.py, reports/__init__.py) hold no code of a layer.
SOURCES = sorted(p for top in ("fixtures", "reports") for p in (ROOT / top).rglob("*.py") if p != ROOT / top / "__init__.py")


def upward(path: Path, text: str | None = None) -> list[str]:
    """The imports of ``path`` that go up the layers or sideways into another unit of its layer."""
    own = unit_of(module_of(path))
    bad = []
    for target in sorted(imports(path, text)):
        unit = unit_of(target)
        if unit is not None and unit != own and LEVEL[unit] >= LEVEL[own]:
            bad.append(f"{own} imports {target} ({unit}, layer {LEVEL[unit]} >= {LEVEL[own]})")
    return bad


def test_every_source_file_has_a_layer():
    """A new folder of fixtures/ or reports/ must be given its place in LAYERS."""
    assert all(unit_of(module_of(p)) for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_imports_go_down_the_layers(path):
    """No import goes up the layers or into another unit of the same layer."""
    assert upward(path) == []


def test_an_upward_import_is_caught():
    """Self-test of the check: a rules module that imports the plugins, or a judge that imports a peer unit, is reported."""
    rules = ROOT / "fixtures" / "rules" / "catalogue.py"
    text = "from vkmap_cts.fixtures.plugins import options\nfrom vkmap_cts.fixtures.rules import validity\n"
    assert upward(rules, text) == ["fixtures.rules imports vkmap_cts.fixtures.plugins (fixtures.plugins, layer 5 >= 1)"]
    judge = ROOT / "fixtures" / "judge" / "oracles.py"
    text = "def f():\n    from ..provoke import provocation\n"
    assert upward(judge, text) == ["fixtures.judge imports vkmap_cts.fixtures.provoke (fixtures.provoke, layer 3 >= 3)"]
