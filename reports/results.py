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
import shlex
import sys
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import settings

from vkmap_cts.fixtures.rules import catalogue
from vkmap_cts.fixtures.rules.catalogue import sentence_of
from vkmap_cts.reports import gate, model, render, scope

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
    """The rule a failure broke, its check's one-line message and the sentence it enforces: the rule as the test's
    process recorded it from its RuleBroken (fixtures/plugins/verdicts.py), never read out of a text.  The suite's own
    error keeps its exception as its message, and names no rule."""
    if failure is not None and failure.get("kind") == "suite":
        rec["message"] = f"the suite's own error, not the driver's: {failure['type']}: {failure['message'][:500]}"
        rec["suiteError"] = {"type": failure["type"], "message": failure["message"]}
        return
    found = sentence_of(failure["rule"]) if failure is not None and failure.get("rule") else None
    if found:
        # The message's first line is the check's: "RULE: observed".
        rec["rule"], rec["message"] = failure["rule"], failure["message"].splitlines()[0][:500]
        rec["sentence"], rec["source"] = found


ENV_CONFORMANCE = "VKMAP_CTS_CONFORMANCE"  # set by ci/conformance
ENV_COMMAND = "VKMAP_CTS"  # set by the vkmap-cts command
# Options of pytest itself a plain pytest run keeps in its re-run command: how pytest finds the suite, not which tests.
PYTEST_KEEPS = ("-c", "--rootdir", "-p", "-o", "--override-ini")


def entry_point() -> list[str]:
    """How the user started this run: ci/conformance, vkmap-cts, or pytest (as typed: ``.venv/bin/pytest``, or the
    interpreter with ``-m pytest``)."""
    if os.environ.get(ENV_CONFORMANCE) == "1":
        return ["ci/conformance"]
    if os.environ.get(ENV_COMMAND) == "1":
        return ["vkmap-cts"]
    if sys.argv[0].endswith("__main__.py"):
        return [_as_typed(sys.executable), "-m", "pytest"]
    return [_as_typed(sys.argv[0])]


def _as_typed(path: str) -> str:
    """A program's path relative to the current folder where it lies under it, else as it is."""
    p = Path(path)
    try:
        return str(p.relative_to(Path.cwd())) if p.is_absolute() else path
    except ValueError:
        return path


def rerun_base(config) -> list[str]:
    """The command that re-runs this run's tests on the same driver: the entry point the user used, the driver the
    user named (a ``VK_DRIVER_FILES=...`` assignment first, where the environment named it), the device, API version
    and layer options, pytest's own options that find the suite, and the hypothesis profile and seed.  Test
    selection, --report-dir and the gate's options are left out: ``rerun`` adds the test ID."""
    icd = config.getoption("--vk-icd", None)
    named = [f"{v}={os.environ[v]}" for v in ("VK_DRIVER_FILES", "VK_ICD_FILENAMES") if os.environ.get(v)]
    entry = entry_point()
    out = [*(named[:1] if not icd else []), *entry]
    if entry[0] not in WRAPPERS:
        out += _pytest_options(list(config.invocation_params.args))
    for name, value in (
        ("--vk-icd", icd),
        ("--vk-device", config.getoption("--vk-device", None)),
        ("--vk-api-version", config.getoption("--vk-api-version", None)),
    ):
        if value:
            out.append(f"{name}={value}")
    layer = config.getoption("--vk-layer", None)
    if layer:
        out.append("--vk-layer" if layer == "installed" else f"--vk-layer={layer}")
    out.append(f"--hypothesis-profile={getattr(settings, '_current_profile', None) or 'default'}")
    seed = config.getoption("hypothesis_seed", None)
    if seed is not None:
        out.append(f"--hypothesis-seed={seed}")
    return out


WRAPPERS = ("ci/conformance", "vkmap-cts")  # entry points that name the suites and start workers themselves


def _pytest_options(args: list[str]) -> list[str]:
    """pytest's own options of PYTEST_KEEPS in ``args``, each with its value."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a.partition("=")[0] in PYTEST_KEEPS and "=" in a:
            out.append(a)
        elif a in PYTEST_KEEPS and i + 1 < len(args):
            out += [a, args[i + 1]]
            i += 1
        elif a.startswith("-p") and len(a) > 2:
            out += ["-p", a[2:]]
        i += 1
    return out


def rerun(base: list[str], rec: dict) -> str:
    """The shell command that re-runs one test as this run ran it: a crash or a hang in a worker process of its own
    (``-n 1``, where the entry point does not start workers itself)."""
    alone = rec["outcome"] in ("Crash", "Timeout") and not set(WRAPPERS) & set(base)
    return shell_words([*base, *(["-n", "1"] if alone else []), rec["nodeid"]])


def shell_words(words: list[str]) -> str:
    """``words`` as one shell command: each quoted, but for a leading ``NAME=value``, whose value alone is quoted (a
    quoted assignment would be a command name)."""
    out, leading = [], True
    for w in words:
        name, sep, value = w.partition("=")
        leading = leading and bool(sep) and name.isidentifier() and name.isupper()
        out.append(f"{name}={shlex.quote(value)}" if leading else shlex.quote(w))
    return " ".join(out)


def suite_version() -> str:
    """The checkout's pyproject.toml version, or the installed package's."""
    if (ROOT / "pyproject.toml").is_file():
        return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    from importlib.metadata import version  # heavy (slow to import), and only an installed copy needs it

    return version("vkmap-cts")


class ResultsWriter:
    """A pytest plugin object (controller only) that gathers results and writes them."""

    OUTPUTS = ("results.json", "junit.xml", "results.csv", "failures.csv", "summary.md", "report.html")

    def __init__(self, config, identity=lambda: None, collected_ids=list, ending=lambda: None):
        """``identity()``, ``collected_ids()`` and ``ending()`` say, when asked, what the plugins that own them keep in
        config.stash: the driver identity the controller probed (fixtures/plugins/device.py), the IDs of the tests
        collected (fixtures/plugins/results.py) and what stopped the run, where something did (kind and words, as
        reports/scope.py's ENDINGS; fixtures/plugins/ending.py)."""
        self.config = config
        self._identity, self._ids_collected, self._ending = identity, collected_ids, ending
        self.tests: dict[str, dict] = {}
        self.finished: set[str] = set()  # the tests whose last phase was reported
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
        for old in [*(out / "reproducers").glob("*.c"), *(out / "bug-reports").glob("*.md")]:
            old.unlink()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        self.collected = max(self.collected, getattr(node, "workeroutput", {}).get("vkmap_collected", 0))

    @property
    def identity(self) -> dict | None:
        """The driver identity the controller probed (fixtures/plugins/device.py), once it has."""
        return self._identity()

    def pytest_runtest_logreport(self, report):
        if self._interrupted() and outcome_of(report) == "Crash":
            return  # a worker ended with the interrupted run: the test it ran was not reached, not crashed
        rec = self._record(report.nodeid)
        node = getattr(report, "node", None)  # the xdist worker that ran it
        if node is not None and "worker" not in rec:
            rec["worker"] = getattr(getattr(node, "gateway", None), "id", str(node))
            rec["order"] = len(self.tests)
        if "start" not in rec and getattr(report, "start", None):
            rec["start"] = round(report.start - self.started, 3)
        rec["duration"] += getattr(report, "duration", 0.0) or 0.0
        if report.when in ("teardown", "???"):  # its last phase (xdist's "???": the worker running it died)
            self.finished.add(report.nodeid)
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
        if self._ending() is not None:  # a test the run cut off before its end, with nothing failed yet: not reached
            for nodeid in [n for n, r in self.tests.items() if n not in self.finished and r["outcome"] == "Pass"]:
                del self.tests[nodeid]
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
        base = rerun_base(self.config)
        for rec in tests:
            if rec["outcome"] in model.DRIVER_FAILING:
                rec["rerun"] = rerun(base, rec)
        selected = [n for n in self._ids_collected() if not scope.is_selftest(n)]
        reached = sum(1 for r in tests if not scope.is_selftest(r["nodeid"]) and not r.get("notRun"))
        ending = self._ending()
        if ending is None and reached < len(selected):
            ending = ("stopped", f"an unknown cause ({len(selected) - reached} selected tests never reported)")
        s = scope.counted(
            self.partial, reached, max(self.collected, len(selected), reached), len(selected) or None, ending
        )
        if ending is not None:  # every test selected is listed: those never reached as not run
            self.not_run(selected, scope.not_run_reason(s))
            tests = sorted(self.tests.values(), key=lambda r: r["nodeid"])
            s["collected"] = max(s["collected"], sum(1 for r in tests if not scope.is_selftest(r["nodeid"])))
            s["notRun"] = s["collected"] - reached
        conformance = [r for r in tests if not scope.is_selftest(r["nodeid"])]
        selftests = [r for r in tests if scope.is_selftest(r["nodeid"])]
        return {
            "schemaVersion": SCHEMA_VERSION,
            "run": {
                "suite": "vkmap-cts",
                "suiteVersion": suite_version(),
                "registryVersion": catalogue.load().get("registry"),
                "command": command(self.config),
                "rerunBase": base,
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
                "scope": s,
            },
            "driver": self.identity,
            **model.summarise(conformance, scope.complete(s)),
            **({"selftests": {"counts": model.counts(selftests), "tests": selftests}} if selftests else {}),
            "slowestCalls": _slowest(conformance),
            **(
                {"layerCrossCheck": _layer(conformance)}
                if any((r.get("properties") or {}).get("layer") for r in conformance)
                else {}
            ),
            **_layer_fuzz(conformance),
        }

    def write(self, exitstatus: int) -> Path | None:
        """Write the results (``self.doc`` where the end of the run built it already), the run's exit status in it."""
        self.doc = self.doc or self.build(exitstatus)
        self.doc["run"]["exitStatus"] = int(exitstatus)
        if self.selftest_only:
            c = self.doc.get("selftests", {}).get("counts", {})
            self.summary = (
                f"vkmap-cts: self-tests only ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))}): no driver is "
                "judged, no conformance report written"
            )
            return None
        path = write_doc(self.doc, Path(self.config.getoption("--report-dir")))
        self.summary = verdict_line(self.doc) + f"; report {path.with_name('report.html')}"
        return path

    def _interrupted(self) -> bool:
        """The run was interrupted or terminated (its workers are ended with it)."""
        return (self._ending() or ("",))[0] in ("interrupted", "terminated", "run-timeout")

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
        """Tests the run never reached (it stopped): Skip, with the reason, so the report lists every test; ``notRun``
        keeps them out of the tests the run reached."""
        for nodeid in nodeids:
            if nodeid not in self.tests:
                self._record(nodeid).update(outcome="Skip", details=reason, notRun=True)

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
        """What the driver lacks (NotSupported) and the host or the run (Skip), by reason; the rules broken, one line
        each, then every failure with its reason and re-run command; the gate's lines and the verdict come last
        (fixtures/plugins/results.py)."""
        for line in render.reason_lines(self.doc or {}) + render.failure_lines(self.doc or {}):
            terminalreporter.write_line(line)


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


def command(config) -> list[str]:
    """The command line the user typed: the entry point and its arguments (without ci/conformance's own)."""
    entry = entry_point()
    if entry == ["vkmap-cts"]:
        return [*entry, *sys.argv[1:]]
    args = list(config.invocation_params.args)
    if entry == ["ci/conformance"] and "ci" in args:
        args = args[args.index("ci") + 1 :]  # ci/conformance's fixed arguments end with "--hypothesis-profile ci"
    return [*entry, *args]


def write_doc(doc: dict, out: Path) -> Path:
    """results.json and every output built on it, into the folder ``out``; returns results.json's path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path)
    render.write_all(doc, out)
    return path


def report_not_applicable(config, err) -> None:
    """Exit 7 (``err``, a NoConformingDevice, with the ``devices`` the loader gave) still leaves a report: its verdict
    line on stdout, before the error's one line (a run of the self-tests alone writes none, as always)."""
    if config.option.collectonly or scope.selftest_only(config):
        return
    try:
        line = write_not_applicable(config, getattr(err, "devices", []), str(err), err.exit_code)
    except OSError as e:  # the one line of exit 7 still comes; the report could not be written
        sys.stderr.write(f"vkmap-cts: no report written: {e}\n")
        return
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def write_not_applicable(config, devices: list[dict], reason: str, exit_status: int) -> str:
    """A run that found no device to judge (no device exposes VK_KHR_map_memory2): its report says so, verdict
    NotApplicable, with every device the loader gave, so a job of a CI matrix over drivers shows why it judged
    nothing.  Returns the verdict line, with where the report is."""
    now = _iso(time.time())
    doc = {
        "schemaVersion": SCHEMA_VERSION,
        "run": {
            "suite": "vkmap-cts",
            "suiteVersion": suite_version(),
            "command": command(config),
            "rerunBase": rerun_base(config),
            "start": now,
            "end": now,
            "host": platform.node(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "exitStatus": exit_status,
            "label": config.getoption("--run-label", None) or None,
            "scope": scope.counted(scope.partial(config), 0, 0),
            "notApplicable": reason,
        },
        **model.summarise([]),
        "verdict": "NotApplicable",
        "devices": devices,
    }
    path = write_doc(doc, Path(config.getoption("--report-dir")))
    return f"{verdict_line(doc)}; report {path.with_name('report.html')}"


def verdict_line(doc: dict) -> str:
    """The run's verdict in one line: on which device (and whether it is a software driver), on how much of the
    suite, the gate's verdict where a baseline was given, and the exit status."""
    exit_status = doc["run"].get("exitStatus")
    if doc["verdict"] == "NotApplicable":
        why = doc["run"]["notApplicable"]
        unnamed = [d["deviceName"] for d in doc.get("devices") or [] if d["deviceName"] not in why]
        why += f"; devices: {', '.join(unnamed)}" if unnamed else ""
        return f"vkmap-cts: verdict NotApplicable, nothing judged: {why}; exit {exit_status}"
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
    g = doc.get("gate")
    if g:
        note += (
            f"; gate {g['verdict']} against {g['baseline']} ({len(gate.failing_of(g))} failing the "
            f"gate, {len(g['expected'])} ExpectedFail)"
        )
    if exit_status is not None:
        note += f"; exit {exit_status}"
    s = doc["run"].get("scope") or {}
    if not scope.complete(s):
        said = scope.describe(s)
        if s.get("partial"):
            head = f"partial run ({s['partial']})"
            return f"vkmap-cts: {head}: {doc['verdict']}{device},{said.removeprefix(head)} ({counts}){note}"
        return f"vkmap-cts: verdict {doc['verdict']}{device}, {said} ({counts}){note}"
    if s.get("partial"):
        ran, total = s["ran"], s["collected"]
        if total > ran:
            of = f"{ran} of {scope.n_tests(total)}; nothing is claimed about the {total - ran} not run"
        else:
            of = f"the {scope.n_tests(ran)} selected; nothing is claimed about the rest of the suite"
        return f"vkmap-cts: partial run ({s['partial']}): {doc['verdict']}{device} on {of} ({counts}){note}"
    ran = s.get("ran", len(doc["tests"]))
    return f"vkmap-cts: verdict {doc['verdict']}{device}, full run of {scope.n_tests(ran)} ({counts}){note}"


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")


def _layer_fuzz(tests: list[dict]) -> dict:
    """The differential fuzz against the validation layer (suites/validation/test_layer_fuzz.py): per layer version
    and driver, the scenarios run, agreeing, explained, disagreeing, and the disagreement groups."""
    runs = [(t.get("properties") or {}).get("layer_fuzz") for t in tests]
    return {"layerFuzz": [r for r in runs if r]} if any(runs) else {}
