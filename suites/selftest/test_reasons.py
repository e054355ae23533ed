"""Self-tests of why tests did not run: NotSupported (what the driver lacks) and Skip (what the test host or the run
lacks) are told apart, grouped by reason at the top of the terminal's summary, summary.md and report.html, and
``diff`` counts no Skip as a change of the driver."""

import html
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from vkmap_cts.fixtures.crosscheck.layer import layer_unusable_reason
from vkmap_cts.fixtures.rules.coverage import host_lacks, not_supported, require
from vkmap_cts.reports import model, render
from vkmap_cts.reports.__main__ import diff, main
from vkmap_cts.reports.html import report
from vkmap_cts.reports.results import outcome_of

ROOT = Path(__file__).resolve().parents[2]


def _skipped_by(call) -> SimpleNamespace:
    """The phase report of a test that ``call`` skipped, as pytest makes it."""
    with pytest.raises(pytest.skip.Exception) as e:
        call()
    return SimpleNamespace(skipped=True, passed=False, longrepr=("t.py", 1, f"Skipped: {e.value.msg}"))


def test_what_the_host_lacks_is_a_skip_and_what_the_driver_lacks_is_not_supported():
    """host_lacks (no layer installed, an option not given) is a Skip with its reason; not_supported and require (the
    device lacks it) are NotSupported."""
    assert outcome_of(_skipped_by(lambda: host_lacks("VK_LAYER_KHRONOS_validation"))) == "Skip"
    run = _skipped_by(lambda: host_lacks("--vk-layer", "the run"))
    assert outcome_of(run) == "Skip" and run.longrepr[2] == "Skipped: the run lacks --vk-layer"
    assert outcome_of(_skipped_by(lambda: not_supported("VK_EXT_map_memory_placed"))) == "NotSupported"
    assert outcome_of(_skipped_by(lambda: require(False, "memoryUnmapReserve"))) == "NotSupported"


def _t(nodeid, outcome, details=None, **kw):
    return {"nodeid": nodeid, "outcome": outcome, "duration": 0.1, "covers": [], "violates": [], "vkresults": {},
            "details": details, **kw}  # fmt: skip


TESTS = [
    _t("p1", "NotSupported", "NotSupported: the device lacks VK_EXT_map_memory_placed"),
    _t("p2", "NotSupported", "NotSupported: the device lacks VK_EXT_map_memory_placed"),
    _t("p3", "NotSupported", "NotSupported: the device lacks VK_EXT_map_memory_placed\nmore lines"),
    _t("c1", "NotSupported", "NotSupported: no memory type without HOST_COHERENT"),
    _t("l1", "Skip", "the test host lacks VK_LAYER_KHRONOS_validation"),
    _t("f1", "Fail", "boom", rule="GUARANTEE-map-success", message="GUARANTEE-map-success: boom"),
    _t("ok", "Pass"),
]


def test_reasons_are_grouped_most_tests_first():
    """Each outcome's reasons, by the first line of what the tests said, most tests first; a bad observation (a
    NotSupported with no reason) is a group of its own, never merged into another."""
    groups = model.reasons([*TESTS, _t("x", "NotSupported")], "NotSupported")
    assert [(g["reason"], g["count"]) for g in groups] == [
        ("the device lacks VK_EXT_map_memory_placed", 3),
        ("no memory type without HOST_COHERENT", 1),
        ("no reason given", 1),
    ]
    assert groups[0]["tests"] == ["p1", "p2", "p3"]
    assert [g["reason"] for g in model.reasons(TESTS, "Skip")] == ["the test host lacks VK_LAYER_KHRONOS_validation"]


def test_the_reasons_lead_every_report():
    """The terminal's summary, summary.md and report.html list NotSupported by reason, then Skip, before the rules
    broken and the failures."""
    doc = {"verdict": "Fail", "run": {"exitStatus": 1}, "driver": None, **model.summarise(TESTS)}
    terminal = render.reason_lines(doc) + render.failure_lines(doc)
    assert terminal[0] == "vkmap-cts: 4 NotSupported, by reason (what the driver lacks):"
    assert terminal[1].split() == ["3", "the", "device", "lacks", "VK_EXT_map_memory_placed"]
    skip = terminal.index(next(x for x in terminal if x.startswith("vkmap-cts: 1 Skip, by reason")))
    assert skip < terminal.index("vkmap-cts: 1 rule(s) broken:")
    summary = render.summary_md(doc)
    head = summary.index("### NotSupported, by reason")
    assert head < summary.index("### Skip, by reason") < summary.index("### Rules broken")
    assert "| 3 | the device lacks VK_EXT_map_memory_placed |" in summary
    page = html.unescape(report(doc))
    assert page.index('id="reasons-NotSupported"') < page.index('id="reasons-Skip"') < page.index('id="failures"')
    assert "the test host lacks VK_LAYER_KHRONOS_validation" in page


def test_diff_counts_no_skip_as_a_change_of_the_driver(tmp_path, capsys):
    """A host that lost its layer (Pass -> Skip) or a test that became the host's (NotSupported -> Skip) is "host",
    not a regression; a skipped test that now fails is one."""
    old = {"run": {}, "driver": None, "tests": [_t("a", "Pass"), _t("b", "NotSupported"), _t("c", "Skip")]}
    new = {"run": {}, "driver": None, "tests": [_t("a", "Skip"), _t("b", "Skip"), _t("c", "Fail")]}
    result = diff(old, new)
    assert result["host"] == [("a", "Pass -> Skip"), ("b", "NotSupported -> Skip")] and not result["not-supported"]
    assert result["fail"] == [("c", "Skip -> Fail")]
    new["tests"][2] = _t("c", "Skip")
    for name, doc in (("old", old), ("new", new)):
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    assert "host: 2 (a Skip in one run: the test host or the run, not the driver)" in capsys.readouterr().out


def test_a_host_without_the_layer_skips_the_layer_tests_and_says_why(tmp_path):
    """The layer's tests, run without --vk-layer: the fuzz is a Skip (the run lacks the option), and where no usable
    layer is installed the agreement tests are too (the host lacks it); none is NotSupported, and the terminal,
    summary.md and report.html list the Skips by reason."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", f"--report-dir={tmp_path}"]
        + ["suites/validation/test_layer_agreement.py", "suites/validation/test_layer_fuzz.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads((tmp_path / "results.json").read_text())
    by = {t["nodeid"]: t for t in doc["tests"]}
    fuzz = by["suites/validation/test_layer_fuzz.py::test_validator_agrees_with_the_layer"]
    assert fuzz["outcome"] == "Skip" and fuzz["details"].startswith("the run lacks --vk-layer"), fuzz
    if layer_unusable_reason():
        agreement = [t for n, t in by.items() if "test_layer_reports_the_validators_vuid" in n]
        assert agreement and all(t["outcome"] == "Skip" for t in agreement), [t["outcome"] for t in agreement]
        assert agreement[0]["details"].startswith("the test host lacks a VK_LAYER_KHRONOS_validation")
    assert "NotSupported" not in doc["counts"], proc.stdout[-3000:]
    skips = doc["counts"]["Skip"]
    assert f"vkmap-cts: {skips} Skip, by reason" in proc.stdout
    assert "### Skip, by reason" in (tmp_path / "summary.md").read_text()
    assert "the run lacks --vk-layer" in html.unescape((tmp_path / "report.html").read_text())
