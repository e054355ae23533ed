"""The results model: tables derived from the per-test records of a run.

Every function takes plain data (the ``tests`` list of results.json) so that a
merged or re-read document is summarised exactly as a live run is.
"""

from __future__ import annotations

import re

from vkmap_cts.fixtures.rules import catalogue

OUTCOMES = ("Pass", "Fail", "NotSupported", "Crash", "Timeout", "Flake", "Skip", "InternalError")
# InternalError: the suite's own exception (fixtures/plugins/verdicts.py), never a verdict about the driver;
# it fails the run and is listed with the failures, but no baseline can expect it.
FAILING = ("Fail", "Crash", "Timeout", "InternalError")
DRIVER_FAILING = ("Fail", "Crash", "Timeout")

# Return codes of the calls under test: the man page the project was specified from
# (Vulkan 1.3.290), and what the registry adds since (checked against vk.xml in a self-test).
MANPAGE_CODES = (
    "VK_SUCCESS",
    "VK_ERROR_OUT_OF_HOST_MEMORY",
    "VK_ERROR_OUT_OF_DEVICE_MEMORY",
    "VK_ERROR_MEMORY_MAP_FAILED",
)
REGISTRY_ONLY_CODES = ("VK_ERROR_UNKNOWN", "VK_ERROR_VALIDATION_FAILED")


def summarise(tests: list[dict], complete: bool = True) -> dict:
    """The parts of a results document derived from its tests: verdict, counts and the tables.  ``complete``: the run
    reached every test it selected (reports/scope.py's ``complete``)."""
    return {
        "verdict": verdict(tests, complete),
        "counts": counts(tests),
        "tests": tests,
        "vuidMatrix": vuid_matrix(tests, catalogue.entries()),
        "returnCodes": return_codes(tests),
        "alignment": alignment(tests),
        "failureGroups": failure_groups(tests),
    }


def verdict(tests: list[dict], complete: bool = True) -> str:
    """The driver's verdict, the one rule every report uses: Fail on a failure of the driver's, else InternalError on
    the suite's own error, else Incomplete where the run did not reach every test it selected (it was interrupted or
    stopped: nothing is claimed about the rest), else Pass (NoTests where nothing was selected)."""
    if any(t["outcome"] in DRIVER_FAILING for t in tests):
        return "Fail"
    if any(t["outcome"] == "InternalError" for t in tests):
        return "InternalError"
    if not complete:
        return "Incomplete"
    return "Pass" if tests else "NoTests"


# The outcomes of tests that did not run, each listed by reason at the top of every report, and what its reasons tell.
NOT_RUN = (
    ("NotSupported", "what the driver lacks"),
    ("Skip", "what the test host or the run lacks, or tests the run never reached: nothing about the driver"),
)


def reasons(tests: list[dict], outcome: str) -> list[dict]:
    """The tests of ``outcome`` (NotSupported: what the driver lacks; Skip: what the test host or the run lacks)
    grouped by their reason, the first line of what they said, most tests first."""
    by: dict[str, list[str]] = {}
    for t in tests:
        if t["outcome"] == outcome:
            lines = (t.get("details") or "").strip().splitlines()
            reason = lines[0].removeprefix(outcome + ": ") if lines else "no reason given"
            by.setdefault(reason, []).append(t["nodeid"])
    ordered = sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [{"reason": r, "count": len(n), "tests": n} for r, n in ordered]


def failure_groups(tests: list[dict]) -> list[dict]:
    """The driver's failures (Fail, Crash, Timeout) grouped by the rule each breaks, most tests first: per rule its
    sentence, its tests, the one whose failing example is smallest and that test's standalone reproducer.  A failure
    whose check named no rule (a crash, a hang) is under "unnamed"."""
    by_rule: dict[str, list[dict]] = {}
    for t in tests:
        if t["outcome"] in DRIVER_FAILING:
            by_rule.setdefault(t.get("rule") or "unnamed", []).append(t)
    groups = []
    for rule, members in by_rule.items():
        # The smallest: a test with a reproducer before one without, then the shortest example or reason.
        smallest = min(members, key=lambda t: (not (t.get("standalone") or {}).get("file"), _size(t), t["nodeid"]))
        groups.append(
            {
                "rule": rule,
                "sentence": next((t["sentence"] for t in members if t.get("sentence")), None),
                "count": len(members),
                "tests": [t["nodeid"] for t in members],
                "smallest": smallest["nodeid"],
                "reproducer": (smallest.get("standalone") or {}).get("file"),
            }
        )
    return sorted(groups, key=lambda g: (-g["count"], g["rule"]))


def _size(t: dict) -> int:
    """How long a failure's falsifying example is, else its one-line reason, else its details."""
    example = (t.get("reproducer") or {}).get("example")
    return len(example or t.get("message") or t.get("details") or "")


def counts(tests: list[dict]) -> dict[str, int]:
    out = {}
    for t in tests:
        out[t["outcome"]] = out.get(t["outcome"], 0) + 1
    return out


def vuid_matrix(tests: list[dict], catalogue_entries: list[dict]) -> list[dict]:
    """One row per catalogued VUID: which tests exercise each side, and their worst outcome."""
    rows = []
    for e in catalogue_entries:
        row = {"vuid": e["vuid"], "kind": e["kind"], "text": e["text"], "sides": e["sides"]}
        for side, key in (("valid", "covers"), ("invalid", "violates")):
            hit = [t for t in tests if e["vuid"] in t.get(key, [])]
            row[side] = {
                "tests": len(hit),
                "outcome": _worst([t["outcome"] for t in hit])
                if hit
                else ("NotRun" if side in e["sides"] else "NoSide"),
            }
        rows.append(row)
    return rows


def _worst(outcomes: list[str]) -> str:
    for o in ("InternalError", "Crash", "Timeout", "Fail", "Flake", "Pass", "NotSupported", "Skip"):
        if o in outcomes:
            return o
    return "NotRun"


def conformance(tests: list[dict]) -> list[dict]:
    """The tests that judge the driver (the suite's self-tests feed oracles bad observations on purpose)."""
    return [t for t in tests if "/selftest/" not in t["nodeid"]]


def return_codes(tests: list[dict], provocations: list[dict] | None = None) -> list[dict]:
    """One row per return code of the map/unmap calls: observed where, provoked by what, or not provoked."""
    tests = conformance(tests)
    observed: dict[str, dict] = {}
    for t in tests:
        for key, n in t.get("vkresults", {}).items():
            entry, _, code = key.partition(":")
            row = observed.setdefault(code, {"count": 0, "tests": set(), "entries": set()})
            row["count"] += n
            row["tests"].add(t["nodeid"])
            row["entries"].add(entry)
    provocations = provocations or [p for t in tests for p in t.get("properties", {}).get("provocations", [])]
    rows = []
    for code in (
        MANPAGE_CODES
        + REGISTRY_ONLY_CODES
        + tuple(sorted(set(observed) - set(MANPAGE_CODES) - set(REGISTRY_ONLY_CODES) - {"void"}))
    ):
        obs = observed.get(code)
        tried = [p for p in provocations if code in p.get("targets", [])]
        provoked = [p for p in tried if code in p.get("results", [])]
        allowed = (
            "man page 1.3.290"
            if code in MANPAGE_CODES
            else ("registry" if code in REGISTRY_ONLY_CODES else "not allowed")
        )
        row = {
            "code": code,
            "allowed_by": allowed,
            "observed": obs["count"] if obs else 0,
            "observed_in": sorted(obs["entries"]) if obs else [],
            "example_tests": sorted(obs["tests"])[:3] if obs else [],
        }
        if code != "VK_SUCCESS":
            if provoked:
                row["status"] = "provoked"
                row["provoked_by"] = sorted({p["pressure"] for p in provoked})
            elif obs:
                row["status"] = "observed"
            else:
                row["status"] = "not provoked on this driver"
                row["tried"] = [
                    p.get("summary") or f"{p['pressure']}: {', '.join(p.get('results', [])) or 'no result'}"
                    for p in tried
                ] or ["no provocation aims at this code"]
        else:
            row["status"] = "observed" if obs else "not observed"
        rows.append(row)
    return rows


def alignment(tests: list[dict]) -> dict[str, dict[str, int]]:
    """Per memory type: how many successful maps had (ptr - offset) aligned to each power of two."""
    out: dict[str, dict[str, int]] = {}
    for t in conformance(tests):
        for mtype, hist in t.get("properties", {}).get("alignment", {}).items():
            row = out.setdefault(str(mtype), {})
            for align, n in hist.items():
                row[str(align)] = row.get(str(align), 0) + n
    return out


REPRO = re.compile(r"(@reproduce_failure\([^)]*\))")
FALSIFYING = re.compile(r"(Falsifying (?:explicit )?example:.*?\n(?:E)?\s*\)\n)", re.S)


def reproducer(details: str | None) -> dict:
    """The hypothesis falsifying example and @reproduce_failure blob found in a failure's text."""
    if not details:
        return {}
    out = {}
    m = FALSIFYING.search(details)
    if m:
        out["example"] = "\n".join(
            line.removeprefix("E").strip(" ") if line.startswith("E ") else line
            for line in m.group(1).strip().splitlines()
        )[:4000]
    m = REPRO.search(details)
    if m:
        out["reproduce"] = m.group(1)
    return out


def lead(t: dict) -> str:
    """One line for a failing test: its outcome and its check's message (the rule, expected, observed)."""
    if t.get("message"):
        return f"{t['outcome']}: {t['message']}"
    if t["outcome"] == "Timeout":
        return "Timeout: " + ((t.get("details") or "").strip().splitlines() or ["the test ran past its time"])[0][:300]
    if t["outcome"] == "Crash":
        return "Crash: " + ((t.get("details") or "").strip().splitlines() or ["the process running it died"])[0][:300]
    last = [x for x in (t.get("details") or "").splitlines() if x.startswith("E ")]
    return f"{t['outcome']}: {last[0][1:].strip()[:300]}" if last else t["outcome"]


def devices(doc: dict) -> list[dict]:
    """The devices a report names: every device the loader gave (a NotApplicable run), else the one judged."""
    return doc.get("devices") or ([doc["driver"]] if doc.get("driver") else [])
