"""results.json: the run's metadata, the driver identity, and one record per test.

Written by the controller process (it sees every worker's reports) at the end of
the session into --report-dir.  The schema is reports/results.schema.json.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

SCHEMA_VERSION = 1
NOT_SUPPORTED = "NotSupported: "


def outcome_of(report) -> str:
    """CTS-style outcome of one phase report."""
    if report.passed:
        return "Pass"
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return "NotSupported" if NOT_SUPPORTED in reason else "Skip"
    text = str(report.longrepr or "")
    if "crashed while running" in text or "worker" in text and "crashed" in text:
        return "Crash"
    return "Fail"


def _reason(report) -> str | None:
    if report.passed:
        return None
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2].replace("Skipped: ", "")
    return str(report.longrepr)[-4000:] if report.longrepr else None


class ResultsWriter:
    """A pytest plugin object (controller only) that gathers results and writes them."""

    def __init__(self, config, identity):
        self.config = config
        self.identity = identity
        self.tests: dict[str, dict] = {}
        self.started = time.time()

    def pytest_runtest_logreport(self, report):
        rec = self.tests.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "Pass", "duration": 0.0, "covers": [], "violates": [], "vkresults": {}, "details": None})
        rec["duration"] += getattr(report, "duration", 0.0) or 0.0
        for name, value in getattr(report, "user_properties", []):
            if name in ("covers", "violates"):
                rec[name] = value
            elif name == "vkresults":
                for k, n in value.items():
                    rec["vkresults"][k] = rec["vkresults"].get(k, 0) + n
            else:
                rec.setdefault("properties", {})[name] = value
        outcome = outcome_of(report)
        # A failing setup or teardown makes the test fail; a skip in setup makes it skip.
        if outcome != "Pass" and rec["outcome"] in ("Pass",):
            rec["outcome"] = outcome
            rec["details"] = _reason(report)
            rec["phase"] = report.when
        if report.when == "call" and hasattr(report, "wasxfail"):
            rec["outcome"] = "Skip"

    def pytest_sessionfinish(self, session, exitstatus):
        out = Path(self.config.getoption("--report-dir"))
        out.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        for rec in self.tests.values():
            counts[rec["outcome"]] = counts.get(rec["outcome"], 0) + 1
        failing = {"Fail", "Crash", "Timeout"}
        doc = {
            "schemaVersion": SCHEMA_VERSION,
            "run": {
                "suite": "vkmap-cts",
                "command": [os.path.basename(sys.argv[0])] + sys.argv[1:],
                "hypothesisProfile": _hypothesis_profile(),
                "start": _iso(self.started),
                "end": _iso(time.time()),
                "host": platform.node(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "exitStatus": int(exitstatus),
            },
            "driver": self.identity,
            "verdict": "Fail" if any(r["outcome"] in failing for r in self.tests.values()) else ("Pass" if self.tests else "NoTests"),
            "counts": counts,
            "tests": sorted(self.tests.values(), key=lambda r: r["nodeid"]),
        }
        path = out / "results.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=False))
        tmp.replace(path)
        self.summary = f"vkmap-cts: verdict {doc['verdict']} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); results in {path}"

    def pytest_terminal_summary(self, terminalreporter):
        if getattr(self, "summary", None):
            terminalreporter.write_line(self.summary)

def _hypothesis_profile() -> str:
    from hypothesis import settings

    return getattr(settings, "_current_profile", None) or "default"


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")
