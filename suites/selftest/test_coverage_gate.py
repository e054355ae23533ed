"""The coverage gate: every catalogued VUID is covered by a test on each side it has,
every guarantee by a test, and no test names an ID that the catalogue does not know.

The gate reads the suites' source (the ``covers``/``violates`` decorators), so it holds
whatever subset of tests a run selects.
"""
import ast
from pathlib import Path

import pytest

from fixtures.rules import catalogue
from fixtures.rules.guarantees import GUARANTEES

SUITES = Path(__file__).resolve().parents[1]


def declared(root: Path = SUITES) -> dict[str, dict[str, set]]:
    """{"covers": {id: {test, ...}}, "violates": {...}} from the decorators of every test."""
    out = {"covers": {}, "violates": {}}
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) and dec.func.id in out:
                    for arg in dec.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            out[dec.func.id].setdefault(arg.value, set()).add(f"{path.relative_to(root.parent)}::{node.name}")
    return out


def gaps(entries, guarantees, decl) -> list[str]:
    """What the gate reports: each line one missing or unknown ID."""
    problems = []
    known = {e["vuid"] for e in entries} | set(guarantees)
    for e in entries:
        for side, marker in (("valid", "covers"), ("invalid", "violates")):
            if side in e["sides"] and e["vuid"] not in decl[marker]:
                problems.append(f"{e['vuid']}: no test covers its {side} side (@{marker})")
    for g in guarantees:
        if g not in decl["covers"]:
            problems.append(f"{g}: no test covers it")
    for marker, ids in decl.items():
        for i, tests in ids.items():
            if i not in known:
                problems.append(f"{i}: named by {sorted(tests)[0]} but not in the catalogue")
    return problems


def test_every_vuid_and_guarantee_is_covered_and_nothing_unknown_is_named():
    problems = gaps(catalogue.entries(), GUARANTEES, declared())
    assert not problems, "coverage gate:\n" + "\n".join(problems)


def test_gate_reports_an_uncovered_side_and_an_unknown_id(tmp_path):
    """Self-test of the gate: a catalogue entry with no invalid-side test, a guarantee with no test, an unknown VUID."""
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "test_x.py").write_text('@covers("VUID-A-x-1", "VUID-UNKNOWN")\ndef test_a(): pass\n')
    decl = declared(tmp_path / "suites")
    problems = gaps([{"vuid": "VUID-A-x-1", "sides": ["valid", "invalid"]}], {"GUARANTEE-g": ()}, decl)
    assert problems == [
        "VUID-A-x-1: no test covers its invalid side (@violates)",
        "GUARANTEE-g: no test covers it",
        "VUID-UNKNOWN: named by suites/test_x.py::test_a but not in the catalogue",
    ]


def test_catalogue_implicit_entries_match_the_registry():
    """Regenerated from vk.xml, the implicit rules are exactly those stored: a registry update that adds one fails here."""
    import vulkan_object

    stored = catalogue.load()["implicit"]
    assert catalogue.generate_implicit(vulkan_object.get_vulkan_object()) == stored, "run: python -m fixtures.rules.catalogue --write"


def test_catalogue_entries_are_well_formed():
    seen = set()
    for e in catalogue.entries():
        assert e["vuid"].startswith(("VUID-", "UNASSIGNED-")) and e["vuid"] not in seen, e
        seen.add(e["vuid"])
        assert e["kind"] in ("implicit", "explicit") and e["text"] and set(e["sides"]) <= {"valid", "invalid"} and e["sides"]
        assert e["alias"] is None or e["alias"] in {x["vuid"] for x in catalogue.entries()}
        if e["sides"] == ["valid"]:
            assert e.get("note"), f"{e['vuid']}: a rule with no invalid side says why"


@pytest.mark.parametrize("vuid", ["VUID-vkMapMemory2KHR-ppData-parameter", "VUID-VkMemoryMapInfo-offset-07959"])
def test_grep_finds_catalogue_check_and_tests(vuid):
    """A VUID string appears in the catalogue, in the validator's check, and in a test."""
    root = SUITES.parent
    assert vuid in (root / "fixtures" / "rules" / "vuids.json").read_text()
    assert vuid in (root / "fixtures" / "rules" / "validity.py").read_text()
    assert any(vuid in p.read_text() for p in (root / "suites").rglob("test_*.py") if "selftest" not in p.parts)
