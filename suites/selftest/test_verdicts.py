"""Self-tests of fixtures/plugins/verdicts.py: only a check naming its rule (a RuleBroken) fails the driver; every other
exception is the suite's own error (InternalError), shown as raised."""

import pytest
from hypothesis.errors import FlakyFailure, FlakyStrategyDefinition

from vkmap_cts.fixtures.access.device import LeakError
from vkmap_cts.fixtures.plugins.verdicts import judge_exception
from vkmap_cts.fixtures.vk.errors import DriverVerdict, RuleBroken, SuiteBug
from vkmap_cts.reports import results

OBSERVED = "vkMapMemory2KHR of Memory(0x1) returned VK_ERROR_MEMORY_MAP_FAILED; expected VK_SUCCESS"
RULED = f"GUARANTEE-map-success: {OBSERVED}"


def _broken():
    return RuleBroken("GUARANTEE-map-success", OBSERVED)


@pytest.mark.parametrize(
    "exc, kind",
    [
        (_broken(), "driver"),
        (RuleBroken("VUID-VkMemoryMapInfo-offset-07959", "the validator accepted nothing", "more lines"), "driver"),
        (DriverVerdict("worker 'isolated' crashed while running 'x'"), "driver"),
        (AssertionError(RULED), "suite"),  # words that start with a rule are no check: the suite's own error
        (AssertionError("'VK_EXT_memory_budget',"), "suite"),  # no rule: hypothesis' text, never a reason
        (RuleBroken("GUARANTEE-no-such-rule", "x"), "suite"),
        (AttributeError("'Device' object has no attribute 'lease'"), "suite"),
        (SuiteBug("VUID-VkMappedMemoryRange-offset-00687: offset is not a multiple"), "suite"),
        (LeakError("GUARANTEE-map-success: left mapped"), "suite"),
        (ExceptionGroup("two", [_broken(), KeyError("k")]), "suite"),
        (ExceptionGroup("two", [_broken(), _broken()]), "driver"),
        (FlakyStrategyDefinition("Inconsistent data generation!"), "flake"),
        (FlakyFailure("did not reproduce", [_broken()]), "flake"),
        (FlakyFailure("did not reproduce", [KeyError("k")]), "suite"),
    ],
)
def test_only_a_check_naming_its_rule_is_a_verdict(exc, kind):
    """The kind of each exception a test can end with; the message is the exception's own; a driver's carries the rule
    its RuleBroken named."""
    got = judge_exception(exc)
    assert got["kind"] == kind
    leaf = next(iter(getattr(exc, "exceptions", ())), exc)
    assert got.get("rule") == (leaf.rule if kind == "driver" and isinstance(leaf, RuleBroken) else None)
    parts = [str(e) for e in getattr(exc, "exceptions", ())] or [str(exc)]
    if kind == "flake":
        assert (
            got["message"].startswith("an example that failed did not fail the same way") and parts[0] in got["message"]
        )
    else:
        assert got["message"] and any(got["message"] in p for p in [str(exc), *parts])


class _Report:
    passed, skipped, failed, when = False, False, True, "call"
    longrepr = "E   AttributeError: 'Device' object has no attribute 'lease'\n...\nE   'VK_EXT_memory_priority',"

    def __init__(self, kind):
        self.user_properties = [
            ("failure", {"kind": kind, "type": "AttributeError", "message": "'Device' object has no attribute 'lease'"})
        ]


def test_a_suite_error_is_an_internal_error_never_a_fail():
    """The outcome follows the kind; a suite error's reason line is its exception, not the failure text's last line."""
    assert results.outcome_of(_Report("suite")) == "InternalError"
    assert results.outcome_of(_Report("driver")) == "Fail"
    assert results.outcome_of(_Report("flake")) == "Flake"
    rec = {"details": _Report.longrepr}
    results._name_the_rule(rec, _Report("suite").user_properties[0][1])
    assert (
        rec["message"]
        == "the suite's own error, not the driver's: AttributeError: 'Device' object has no attribute 'lease'"
    )
    assert "rule" not in rec


def test_a_fail_is_named_by_its_checks_own_message():
    """A driver failure's message and rule come from the exception, even when the failure's text ends in a dump."""
    rec = {"details": "E   'VK_EXT_memory_budget',\n" * 3000}
    results._name_the_rule(rec, judge_exception(_broken()))
    assert (rec["rule"], rec["message"]) == ("GUARANTEE-map-success", RULED)


WORDS_AND_RULES = """
import pytest

from vkmap_cts.fixtures.vk.errors import RuleBroken


def test_words_that_read_like_a_rule():
    raise AssertionError("GUARANTEE-map-success: only words")


def test_a_rule_broken():
    raise RuleBroken("GUARANTEE-map-success", "what was observed")


@pytest.mark.isolated
def test_a_rule_broken_in_an_isolated_child():
    raise RuleBroken("GUARANTEE-map-alignment", "what the child observed")
"""


def test_the_rule_reaches_the_results_as_data_and_words_alone_name_none(pytester, monkeypatch):
    """Through an xdist worker, and an isolated test's child: a RuleBroken's rule is the test's rule in results.json,
    its message "RULE: observed"; a plain AssertionError whose words start with a rule is the suite's own error."""
    import json
    import os
    from pathlib import Path

    from vkmap_cts.fixtures.rules.guarantees import GUARANTEES

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest("from vkmap_cts.fixtures.plugins import PLUGINS\npytest_plugins = PLUGINS")
    pytester.makepyfile(test_rules=WORDS_AND_RULES)
    out = pytester.path / "out"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "1", "--flake-reruns=0", f"--report-dir={out}")
    by = {t["nodeid"].rsplit("::", 1)[1]: t for t in json.loads((out / "results.json").read_text())["tests"]}
    for name, rule, observed in (
        ("test_a_rule_broken", "GUARANTEE-map-success", "what was observed"),
        ("test_a_rule_broken_in_an_isolated_child", "GUARANTEE-map-alignment", "what the child observed"),
    ):
        t = by[name]
        assert (t["outcome"], t.get("rule"), t.get("message")) == ("Fail", rule, f"{rule}: {observed}"), t
        assert t["sentence"] == GUARANTEES[rule].sentence
    words = by["test_words_that_read_like_a_rule"]
    assert words["outcome"] == "InternalError" and "rule" not in words, words
    assert words["suiteError"] == {"type": "AssertionError", "message": "GUARANTEE-map-success: only words"}


def test_the_verdict_of_suite_errors_alone_is_internal_error():
    """A run whose only failures are the suite's is no driver Fail, nor a Pass."""
    from vkmap_cts.reports.model import verdict

    assert verdict([{"outcome": "Pass"}, {"outcome": "InternalError"}]) == "InternalError"
    assert verdict([{"outcome": "Fail"}, {"outcome": "InternalError"}]) == "Fail"
    assert verdict([{"outcome": "Pass"}]) == "Pass"


def test_an_isolated_child_that_died_after_a_failed_check_broke_that_checks_rule(monkeypatch):
    """The child died after its journal recorded a failed check: the parent's verdict is that check's RuleBroken, its
    rule and what was observed read from the journal's event (fields, never its message's text), with the crash told
    after the check's line."""
    from types import SimpleNamespace

    from vkmap_cts.fixtures.plugins import isolation

    monkeypatch.setattr(isolation, "reproduce_for", lambda *args: {"reason": "not made here"})
    check = {"op": "check", "passed": False, "rule": "GUARANTEE-map-success", "message": RULED, "observed": OBSERVED}
    snapshot = {"events": [check, {"op": "call", "entry": "vkUnmapMemory2KHR"}]}
    item = SimpleNamespace(nodeid="t", config=None, user_properties=[])
    with pytest.raises(RuleBroken) as failed:
        isolation._died(item, SimpleNamespace(returncode=-11), snapshot)
    assert (failed.value.rule, failed.value.observed) == ("GUARANTEE-map-success", OBSERVED)
    assert str(failed.value).startswith(f"{RULED}\n(after this failure the isolated child died with -11, in vkUnmap")
    assert judge_exception(failed.value)["rule"] == "GUARANTEE-map-success"
