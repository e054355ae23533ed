"""Self-tests of fixtures/plugins/verdicts.py: only a check naming its rule fails the driver; every other exception
is the suite's own error (InternalError), shown as raised."""

import pytest
from hypothesis.errors import FlakyFailure, FlakyStrategyDefinition

from vkmap_cts.fixtures.access.device import LeakError
from vkmap_cts.fixtures.plugins.verdicts import judge_exception
from vkmap_cts.fixtures.vk.errors import DriverVerdict, SuiteBug
from vkmap_cts.reports import results

RULED = "GUARANTEE-map-success: vkMapMemory2KHR of Memory(0x1) returned VK_ERROR_MEMORY_MAP_FAILED; expected VK_SUCCESS"


@pytest.mark.parametrize(
    "exc, kind",
    [
        (AssertionError(RULED), "driver"),
        (AssertionError("VUID-VkMemoryMapInfo-offset-07959: the validator accepted nothing\nmore lines"), "driver"),
        (DriverVerdict("worker 'isolated' crashed while running 'x'"), "driver"),
        (AssertionError("'VK_EXT_memory_budget',"), "suite"),  # no rule: hypothesis' text, never a reason
        (AssertionError("GUARANTEE-no-such-rule: x"), "suite"),
        (AttributeError("'Device' object has no attribute 'lease'"), "suite"),
        (SuiteBug("VUID-VkMappedMemoryRange-offset-00687: offset is not a multiple"), "suite"),
        (LeakError("GUARANTEE-map-success: left mapped"), "suite"),
        (ExceptionGroup("two", [AssertionError(RULED), KeyError("k")]), "suite"),
        (ExceptionGroup("two", [AssertionError(RULED), AssertionError(RULED)]), "driver"),
        (FlakyStrategyDefinition("Inconsistent data generation!"), "flake"),
        (FlakyFailure("did not reproduce", [AssertionError(RULED)]), "flake"),
        (FlakyFailure("did not reproduce", [KeyError("k")]), "suite"),
    ],
)
def test_only_a_check_naming_its_rule_is_a_verdict(exc, kind):
    """The kind of each exception a test can end with; the message is the exception's own."""
    got = judge_exception(exc)
    assert got["kind"] == kind
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
    results._name_the_rule(rec, {"kind": "driver", "type": "AssertionError", "message": RULED})
    assert (rec["rule"], rec["message"]) == ("GUARANTEE-map-success", RULED)


def test_the_verdict_of_suite_errors_alone_is_internal_error():
    """A run whose only failures are the suite's is no driver Fail, nor a Pass."""
    from vkmap_cts.reports.model import verdict

    assert verdict([{"outcome": "Pass"}, {"outcome": "InternalError"}]) == "InternalError"
    assert verdict([{"outcome": "Fail"}, {"outcome": "InternalError"}]) == "Fail"
    assert verdict([{"outcome": "Pass"}]) == "Pass"
