"""results.json and the outputs built on it, written by the controller at the end of a run.

The controller sees every worker's reports (``pytest_runtest_logreport``); at session
end it builds the results document (reports/results.schema.json) and writes it with
JUnit, CSV, Markdown and HTML beside it (``vkmap_cts.reports.render``) into --report-dir.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import settings

from vkmap_cts.fixtures.rules import catalogue
from vkmap_cts.fixtures.rules.catalogue import failed_rule, sentence_of
from vkmap_cts.reports import gate, model, render, scope
from vkmap_cts.reports.render import standalone

SCHEMA_VERSION = 1
NOT_SUPPORTED = "NotSupported: "
DETAILS_LIMIT = 8000
ROOT = Path(__file__).resolve().parent.parent


def failure_of(report) -> dict | None:
    """What fixtures/plugins/verdicts.py said of a failing phase: kind ("driver" or "suite"), type, message."""
    return next((info for name, info in getattr(report, "user_properties", []) if name == "failure"), None)


def outcome_of(report) -> str:
    """CTS-style outcome of one phase report: the suite's own exception is an InternalError, never a Fail."""
    if report.passed:
        return "Pass"
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return "NotSupported" if NOT_SUPPORTED in reason else "Skip"
    # A crash is what xdist says of a worker that died (a plain text), or the message an isolated test's
    # child raises (fixtures/plugins/isolation.py): never words that merely appear in a traceback's source.
    crash = getattr(report.longrepr, "reprcrash", None)
    text = (
        report.longrepr
        if isinstance(report.longrepr, str)
        else (crash.message if crash is not None else str(report.longrepr or ""))
    )
    if "crashed while running" in text:
        return "Crash"
    kind = (failure_of(report) or {}).get("kind")
    return {"suite": "InternalError", "flake": "Flake"}.get(kind, "Fail")


def _reason(report) -> str | None:
    if report.passed:
        return None
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2].replace("Skipped: ", "")
    if not report.longrepr:
        return None
    text = str(report.longrepr)
    # Long texts keep their head (the test and the check that failed) and their tail (the exception, hypothesis'
    # example).
    return (
        text
        if len(text) <= DETAILS_LIMIT
        else (
            f"{text[: DETAILS_LIMIT // 2]}\n[... {len(text) - DETAILS_LIMIT} characters left out "
            f"...]\n{text[-DETAILS_LIMIT // 2 :]}"
        )
    )


def _name_the_rule(rec: dict, failure: dict | None) -> None:
    """The rule a failure broke, its check's one-line message and the sentence it enforces: from the exception's own
    message where the test's process said what it was (fixtures/plugins/verdicts.py), else from the failure's text.
    The suite's own error keeps its exception as its message, and names no rule."""
    if failure is not None and failure.get("kind") == "suite":
        rec["message"] = f"the suite's own error, not the driver's: {failure['type']}: {failure['message'][:500]}"
        rec["suiteError"] = {"type": failure["type"], "message": failure["message"]}
        return
    found = failed_rule(failure["message"]) if failure is not None else None
    found = found or failed_rule(rec.get("details") or "")
    if found:
        rec["rule"], rec["message"] = found[0], found[1][:500]
        rec["sentence"], rec["source"] = sentence_of(found[0])


def suite_version() -> str:
    """The checkout's pyproject.toml version, or the installed package's."""
    if (ROOT / "pyproject.toml").is_file():
        return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    from importlib.metadata import version  # heavy (slow to import), and only an installed copy needs it

    return version("vkmap-cts")


class ResultsWriter:
    """A pytest plugin object (controller only) that gathers results and writes them."""

    OUTPUTS = ("results.json", "junit.xml", "results.csv", "failures.csv", "summary.md", "report.html")

    def __init__(self, config):
        self.config = config
        self.tests: dict[str, dict] = {}
        self.started = time.time()
        self.summary = None
        self.doc = None
        self.collected = 0  # conformance tests collected before any deselection (the largest count a process saw)
        self.selftest_only = scope.selftest_only(config)
        self.partial = scope.partial(config)
        if not self.selftest_only:
            self._clear()

    def _clear(self) -> None:
        """An older run's report never stands where this run's belongs: it goes before this run starts."""
        out = Path(self.config.getoption("--report-dir"))
        for name in self.OUTPUTS:
            (out / name).unlink(missing_ok=True)
        for old in (out / "reproducers").glob("*.c"):
            old.unlink()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        self.collected = max(self.collected, getattr(node, "workeroutput", {}).get("vkmap_collected", 0))

    @property
    def identity(self) -> dict | None:
        """The driver identity the controller probed (fixtures/plugins/device.py), once it has."""
        return getattr(self.config, "_vk_identity", None)

    def pytest_runtest_logreport(self, report):
        rec = self._record(report.nodeid)
        node = getattr(report, "node", None)  # the xdist worker that ran it
        if node is not None and "worker" not in rec:
            rec["worker"] = getattr(getattr(node, "gateway", None), "id", str(node))
            rec["order"] = len(self.tests)
        rec["duration"] += getattr(report, "duration", 0.0) or 0.0
        # An item's user_properties accumulate over its phases, and each phase's report carries all
        # of them so far: the latest report's counts are the test's counts, never summed across reports.
        counts: dict[str, int] = {}
        for name, value in getattr(report, "user_properties", []):
            if name in ("covers", "violates"):
                rec[name] = value
            elif name == "vkresults":
                for k, n in value.items():
                    counts[k] = counts.get(k, 0) + n
            elif name == "attempts":
                rec["attempts"] = value
            elif name == "standalone":
                rec["standalone"] = value
            else:
                rec.setdefault("properties", {})[name] = value
        if counts:
            rec["vkresults"] = counts
        outcome = outcome_of(report)
        # A failing setup or teardown makes the test fail; a skip in setup makes it skip.
        if outcome != "Pass" and rec["outcome"] == "Pass":
            rec["outcome"] = outcome
            rec["details"] = _reason(report)
            rec["phase"] = report.when
            failure = failure_of(report)
            if outcome in model.FAILING:
                _name_the_rule(rec, failure)
            elif outcome == "Flake" and failure:
                rec["message"] = failure["message"][:500]
            repro = model.reproducer(str(report.longrepr or ""))
            if repro:
                rec["reproducer"] = repro
        attempts = rec.get("attempts")
        if attempts and attempts[-1] == "Pass" and "Fail" in attempts and rec["outcome"] == "Pass":
            rec["outcome"] = "Flake"

    def build(self, exitstatus: int) -> dict:
        tests = sorted(self.tests.values(), key=lambda r: r["nodeid"])
        flakes = gate.patterns_of(self.config, "--flakes")
        for rec in tests:
            line = gate.first_match(flakes, rec["nodeid"]) if rec["outcome"] in model.FAILING else None
            if line is not None:
                rec["details"] = (
                    f"{rec['outcome']}, a known flake (--flakes {self.config.getoption('--flakes')}:{line}): "
                    f"{rec['details'] or ''}"
                )
                rec["outcome"] = "Flake"
        current = settings()
        conformance = [r for r in tests if not scope.is_selftest(r["nodeid"])]
        selftests = [r for r in tests if scope.is_selftest(r["nodeid"])]
        return {
            "schemaVersion": SCHEMA_VERSION,
            "run": {
                "suite": "vkmap-cts",
                "suiteVersion": suite_version(),
                "registryVersion": catalogue.load().get("registry"),
                "command": [os.path.basename(sys.argv[0])] + sys.argv[1:],
                "hypothesisProfile": getattr(settings, "_current_profile", None) or "default",
                "hypothesisSeed": "derandomized"
                if current.derandomize
                else self.config.getoption("hypothesis_seed", None),
                "start": _iso(self.started),
                "end": _iso(time.time()),
                "host": platform.node(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "exitStatus": int(exitstatus),
                "label": self.config.getoption("--run-label") or None,
                "shard": self.config.getoption("--shard") or None,
                "scope": {
                    "partial": self.partial,
                    "ran": len(conformance),
                    "collected": max(self.collected, len(conformance), self._collected_ids()),
                },
            },
            "driver": self.identity,
            **model.summarise(conformance),
            **({"selftests": {"counts": model.counts(selftests), "tests": selftests}} if selftests else {}),
            "slowestCalls": _slowest(conformance),
            **(
                {"layerCrossCheck": _layer(conformance)}
                if any((r.get("properties") or {}).get("layer") for r in conformance)
                else {}
            ),
        }

    def write(self, exitstatus: int) -> Path | None:
        self.doc = self.build(exitstatus)
        if self.selftest_only:
            c = self.doc.get("selftests", {}).get("counts", {})
            self.summary = (
                f"vkmap-cts: self-tests only ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))}): no driver is "
                "judged, no conformance report written"
            )
            return None
        out = Path(self.config.getoption("--report-dir"))
        out.mkdir(parents=True, exist_ok=True)
        path = out / "results.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.doc, indent=1))
        tmp.replace(path)
        render.write_all(self.doc, out)
        self.summary = verdict_line(self.doc) + f"; results in {path}"
        return path

    def _collected_ids(self) -> int:
        return sum(1 for n in getattr(self.config, "_vk_collected_ids", []) if not scope.is_selftest(n))

    def _record(self, nodeid: str) -> dict:
        return self.tests.setdefault(
            nodeid,
            {
                "nodeid": nodeid,
                "outcome": "Pass",
                "duration": 0.0,
                "covers": [],
                "violates": [],
                "vkresults": {},
                "details": None,
            },
        )

    def record_timeout(self, nodeid: str, why: str) -> None:
        """The test hung: a Timeout, its details leading with what hung (a call, or the whole test)."""
        rec = self._record(nodeid)
        rec["outcome"] = "Timeout"
        rec["details"] = why + (f"\n\n{rec['details']}" if rec.get("details") else "")

    def not_run(self, nodeids: list[str], reason: str) -> None:
        """Tests the run never reached (it stopped): Skip, with the reason, so the report lists every test."""
        for nodeid in nodeids:
            if nodeid not in self.tests:
                self._record(nodeid).update(outcome="Skip", details=reason)

    def earlier_failures(self, rec: dict) -> list[str]:
        """The failures, crashes and timeouts that the same worker process had before ``rec``'s test."""
        worker, order = rec.get("worker"), rec.get("order", 0)
        return [
            f"{r['nodeid']} ({r['outcome']})"
            for r in self.tests.values()
            if worker and r.get("worker") == worker and r.get("order", 0) < order and r["outcome"] in model.FAILING
        ]

    def selftests_failed(self) -> bool:
        return any(r["outcome"] in model.FAILING for r in (self.doc or {}).get("selftests", {}).get("tests", []))

    def pytest_terminal_summary(self, terminalreporter):
        for t in (self.doc or {}).get("tests", []):
            line = standalone(t) if t["outcome"] in model.FAILING else None
            if line:
                terminalreporter.write_line(f"vkmap-cts: {t['nodeid']}: {line}")
        if self.summary:
            terminalreporter.write_line(self.summary)


def _layer(tests: list[dict]) -> dict:
    """The validation-layer cross-check: the VUIDs both name, the differences explained, those that are not."""
    agreed, explained, disagreements = set(), {}, []
    for t in tests:
        for c in (t.get("properties") or {}).get("layer", []):
            if c["layer"] is not None:
                agreed |= set(c["validator"]) & set(c["layer"])
            for e in c["explained"]:
                explained.setdefault(e["vuid"], {"vuid": e["vuid"], "reason": e["reason"], "calls": 0})["calls"] += 1
            if not c["agree"]:
                disagreements.append(
                    {"test": t["nodeid"], "call": c["call"], "validator": c["validator"], "layer": c["layer"]}
                )
    return {
        "agreed": sorted(agreed),
        "explained": sorted(explained.values(), key=lambda e: e["vuid"]),
        "disagreements": disagreements,
    }


def _slowest(tests: list[dict]) -> dict[str, dict]:
    """Per entry point, the longest single call of the run and the test that made it (seconds)."""
    out: dict[str, dict] = {}
    for t in tests:
        for entry, took in (t.get("properties") or {}).get("slowest_calls", {}).items():
            if took > out.get(entry, {}).get("seconds", -1):
                out[entry] = {"seconds": took, "test": t["nodeid"]}
    return dict(sorted(out.items()))


def verdict_line(doc: dict) -> str:
    """The run's verdict in one line: on which device (and whether it is a software driver), on how much of the
    suite."""
    c = doc["counts"]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
    d = doc.get("driver") or {}
    device = f" on {d.get('deviceName', '?')}" + (
        " (a software driver, on the CPU)" if d.get("deviceType") == "CPU" else ""
    )
    broken = d.get("driverLoadFailures") or []
    note = (
        f"; {len(broken)} installed driver(s) did not load: " + ", ".join(Path(b["manifest"]).name for b in broken)
        if broken
        else ""
    )
    if c.get("InternalError"):
        note += (
            f"; {c['InternalError']} test(s) ended in the suite's own error (InternalError), which says nothing "
            "about the driver: a bug of vkmap-cts to report"
        )
    scope = doc["run"].get("scope") or {}
    if scope.get("partial"):
        ran, total = scope["ran"], scope["collected"]
        if total > ran:
            of = f"{ran} of {total} tests; nothing is claimed about the {total - ran} not run"
        else:
            of = f"the {ran} tests selected; nothing is claimed about the rest of the suite"
        return f"vkmap-cts: partial run ({scope['partial']}): {doc['verdict']}{device} on {of} ({counts}){note}"
    return f"vkmap-cts: verdict {doc['verdict']}{device} ({counts}){note}"


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")
