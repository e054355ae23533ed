"""The coverage gate: every catalogued rule is covered by a test on each side it has, in each
spelling (a KHR spelling by an item that exercises the KHR entry point), every guarantee by
a test, every conformance test says what it checks in a docstring, and no test names an ID
that the catalogue does not know.

The gate reads the collected conformance tests (``--collect-only --rules-json``), so it sees
each parametrized item with the rule it is credited with, whatever subset a run selects.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vkmap_cts.fixtures.rules import catalogue
from vkmap_cts.fixtures.rules.guarantees import GUARANTEES

ROOT = Path(__file__).resolve().parents[2]


def collected(tmp_path: Path) -> dict:
    """{nodeid: {"covers": [...], "violates": [...], "doc": "..."}} of every conformance test."""
    out = tmp_path / "rules.json"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        "--collect-only",
        "-q",
        "-p",
        "no:xdist",
    ]
    proc = subprocess.run(
        [*cmd, "suites", "--ignore=suites/selftest", f"--rules-json={out}"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def gaps(entries, guarantees, tests: dict) -> list[str]:
    """What the gate reports: each line one missing or unknown ID, or a test without a docstring."""
    decl = {"covers": {}, "violates": {}}
    for nodeid, t in tests.items():
        for marker in decl:
            for i in t[marker]:
                decl[marker].setdefault(i, set()).add(nodeid)
    problems = []
    known = {e["vuid"] for e in entries} | set(guarantees)
    for e in entries:
        for side, marker in (("valid", "covers"), ("invalid", "violates")):
            if side in e["sides"] and e["vuid"] not in decl[marker]:
                problems.append(f"{e['vuid']}: no test covers its {side} side (@{marker})")
    for g in guarantees:
        if g not in decl["covers"]:
            problems.append(f"{g}: no test covers it")
    for ids in decl.values():
        for i, nodeids in ids.items():
            if i not in known:
                problems.append(f"{i}: named by {sorted(nodeids)[0]} but not in the catalogue")
    for function in sorted({n.split("[")[0] for n, t in tests.items() if not t["doc"]}):
        problems.append(f"{function}: no docstring saying what it checks")
    return problems


def test_every_rule_and_guarantee_is_covered_and_every_test_says_what_it_checks(tmp_path):
    """The gate itself, over the conformance suites as collected."""
    problems = gaps(catalogue.entries(), GUARANTEES, collected(tmp_path))
    assert not problems, "coverage gate:\n" + "\n".join(problems)


def test_gate_reports_an_uncovered_side_an_unknown_id_and_a_missing_docstring():
    """Self-test of the gate: an uncovered side, an uncovered guarantee, an unknown VUID, a test without a docstring."""
    tests = {
        "suites/test_x.py::test_a[vkMapMemory2]": {
            "covers": ["VUID-A-x-1", "VUID-UNKNOWN"],
            "violates": [],
            "doc": "checks a",
        },
        "suites/test_x.py::test_b[1]": {"covers": [], "violates": [], "doc": ""},
    }
    problems = gaps([{"vuid": "VUID-A-x-1", "sides": ["valid", "invalid"]}], {"GUARANTEE-g": ()}, tests)
    assert problems == [
        "VUID-A-x-1: no test covers its invalid side (@violates)",
        "GUARANTEE-g: no test covers it",
        "VUID-UNKNOWN: named by suites/test_x.py::test_a[vkMapMemory2] but not in the catalogue",
        "suites/test_x.py::test_b: no docstring saying what it checks",
    ]


def test_a_khr_spelling_in_a_marker_is_refused():
    """Tests name rules by their core VUID; the KHR spelling comes from the entry point an item exercises."""
    from vkmap_cts.fixtures.rules.coverage import covers, violates

    for marker in (covers, violates):
        with pytest.raises(TypeError, match="core VUID"):
            marker("VUID-VkMemoryMapInfoKHR-offset-07959")
    assert (
        catalogue.spelled("VUID-VkMemoryMapInfo-offset-07959", "vkMapMemory2KHR")
        == "VUID-VkMemoryMapInfoKHR-offset-07959"
    )
    assert catalogue.spelled("VUID-VkMemoryMapInfo-offset-07959", "vkMapMemory2") == "VUID-VkMemoryMapInfo-offset-07959"
    assert catalogue.spelled("VUID-vkMapMemory-offset-00679", "vkMapMemory2KHR") == "VUID-vkMapMemory-offset-00679"


def test_catalogue_implicit_entries_match_the_registry():
    """Regenerated from vk.xml, the implicit rules and the KHR aliases are exactly those stored: a registry update that
    adds one fails here."""
    import vulkan_object

    reg, stored = vulkan_object.get_vulkan_object(), catalogue.load()
    assert catalogue.generate_implicit(reg) == stored["implicit"], (
        "run: python -m vkmap_cts.fixtures.rules.catalogue --write"
    )
    assert catalogue.generate_aliases(reg) == stored["aliases"], (
        "run: python -m vkmap_cts.fixtures.rules.catalogue --write"
    )


def test_catalogue_stores_each_rule_once_and_lists_its_khr_spelling():
    """The stored catalogue names each rule by its core name only; entries() adds the KHR spelling of each VUID
    whose command or structure has a KHR alias, right after it, the same rule but for its extension."""
    stored = catalogue.load()
    rules = stored["implicit"] + stored["explicit"]
    assert not [r["vuid"] for r in rules if catalogue.is_khr_spelling(r["vuid"]) or "alias" in r]
    listed = iter(catalogue.entries())
    for rule in rules:
        core = next(listed)
        assert core["vuid"] == rule["vuid"]
        khr = stored["aliases"].get(rule["scope"]) if rule["vuid"].startswith("VUID-") else None
        if khr is None:
            assert core["alias"] is None
            continue
        copy = next(listed)
        assert (
            core["alias"] == copy["vuid"] == rule["vuid"].replace(rule["scope"], khr["name"], 1)
            and copy["alias"] == core["vuid"]
        )
        assert khr["extension"] in copy["depends"] and set(copy["depends"]) - {khr["extension"]} == set(
            rule["depends"]
        ) - {khr["extension"]}
        same = ("kind", "text", "sides", "sentence", "note")
        assert [copy.get(k) for k in same] == [core.get(k) for k in same]
    assert next(listed, None) is None


def test_catalogue_entries_are_well_formed():
    """Unique IDs, known kinds and sides, aliases that exist, and a reason for every rule without an invalid side."""
    seen = set()
    for e in catalogue.entries():
        assert e["vuid"].startswith(("VUID-", "UNASSIGNED-")) and e["vuid"] not in seen, e
        seen.add(e["vuid"])
        assert (
            e["kind"] in ("implicit", "explicit")
            and e["text"]
            and set(e["sides"]) <= {"valid", "invalid"}
            and e["sides"]
        )
        assert e["alias"] is None or e["alias"] in {x["vuid"] for x in catalogue.entries()}
        if e["sides"] == ["valid"]:
            assert e.get("note"), f"{e['vuid']}: a rule with no invalid side says why"


@pytest.mark.parametrize(
    "vuid", ["VUID-vkMapMemory2-ppData-parameter", "VUID-VkMemoryMapInfo-offset-07959", "VUID-vkMapMemory-size-00681"]
)
def test_grep_finds_catalogue_check_and_tests(vuid):
    """A rule's core VUID appears in the catalogue, in the validator's check, and in a conformance test."""
    assert vuid in (ROOT / "fixtures" / "rules" / "vuids.json").read_text()
    assert vuid in (ROOT / "fixtures" / "rules" / "validity.py").read_text()
    assert any(vuid in p.read_text() for p in (ROOT / "suites").rglob("test_*.py") if "selftest" not in p.parts)
