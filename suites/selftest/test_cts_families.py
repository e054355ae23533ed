"""Every family of Khronos' CTS memory-mapping cases (fixtures/rules/cts.py) has a test here, run with every
parameter the family needs, and the table of docs/depth-against-cts.md is the one the family list gives."""

import subprocess
import sys
from pathlib import Path

from vkmap_cts.fixtures.rules import cts

ROOT = Path(__file__).resolve().parents[2]


def test_case_names_are_the_mustpass_lists():
    """The names rebuilt are as many as CTS's mustpass list holds: 4466 dEQP-VK.memory.mapping cases (2233 of them map2)
    and 13 map_placed."""
    names = cts.case_names()
    mapping = [n for n in names if n.startswith("mapping.")]
    assert len(mapping) == 4466 and sum(n.endswith("_map2") for n in mapping) == 2233
    assert len(names) - len(mapping) == 13
    assert "mapping.suballocation.sub.8095.offset_255.size_4085.subinvalidate_separate_map2" in names
    assert set(names.values()) == {f.name for f in cts.FAMILIES}, "a CTS case whose family is not listed"


def _collected() -> dict[str, list[set]]:
    """Collected test functions (file::function) with the parameter ids of each item."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "suites/operation"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    items: dict[str, list[set]] = {}
    for line in out.splitlines():
        if "::" not in line:
            continue
        name, _, params = line.partition("[")
        items.setdefault(name, []).append(set(params.rstrip("]").split("-")) if params else set())
    return items


def test_every_family_has_a_test_with_every_parameter():
    """Each family's test exists, and has an item for every combination of allocation kind, operation and entry point it
    needs."""
    missing = cts.gaps(_collected())
    assert not missing, "\n".join(missing)


def test_a_family_without_a_test_or_a_parameter_is_reported():
    """The check fails for a family whose test is missing, or lacks an item for a parameter it needs."""
    collected = {"suites/x.py::test_a": [{"vkMapMemory2KHR", "simple"}]}
    families = (
        cts.Family("gone", "suites/x.py::test_b"),
        cts.Family(
            "partial", "suites/x.py::test_a", {"operation": ("simple",), "entry": ("vkMapMemory2KHR", "vkMapMemory")}
        ),
    )
    assert cts.gaps(collected, families) == [
        "gone: no test suites/x.py::test_b",
        "partial: suites/x.py::test_a has no item for {'operation': 'simple', 'entry': 'vkMapMemory'}",
    ]
    assert cts.gaps(collected, families[1:2][:0]) == []


def test_depth_page_table_is_the_family_list():
    """The CTS table of docs/depth-against-cts.md is `python -m vkmap_cts.fixtures.rules.cts`'s."""
    assert cts.markdown() in (ROOT / "docs" / "depth-against-cts.md").read_text(), (
        "docs/depth-against-cts.md: paste the output of `python -m vkmap_cts.fixtures.rules.cts`"
    )
