"""Self-tests of how a run ends: whatever ends it (it completes, Ctrl-C, SIGTERM from a CI runner, --vk-run-timeout,
-x, a worker that dies), every artifact (the terminal's last line, results.json, summary.md, junit.xml, report.html)
says how, lists every test it selected (those never reached as not run), and none gives a Pass to a run that did not
reach every selected test; the exit status is the README's.  The hangs (--vk-hang-limit, a hang without xdist) are
test_reports.py's, with the same checks of their ending."""

import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import jsonschema

from vkmap_cts.reports import model, render, scope
from vkmap_cts.reports.html import report

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "results.schema.json").read_text())
CONFORMANCE = ["suites", "--ignore=suites/selftest"]
DOUBLES = [
    "-c",
    str(ROOT / "pyproject.toml"),
    f"--rootdir={ROOT}",
    "--override-ini",
    "collect_ignore_glob=",
    "-o",
    "python_files=driver_doubles.py",
    "suites/selftest/doubles/driver_doubles.py",
    "--flake-reruns=0",
]
BASELINE = "--baseline=ci/lavapipe-fails.txt"


def _artifacts(proc, folder: Path) -> SimpleNamespace:
    """Every artifact of the run, read back, and what they all must say alike: the exit status and one verdict."""
    doc = json.loads((folder / "results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    suite = ET.parse(folder / "junit.xml").getroot()
    a = SimpleNamespace(
        doc=doc,
        scope=doc["run"]["scope"],
        junit={p.get("name"): p.get("value") for p in suite.find("properties")},
        junit_cases=len(suite.findall("testcase")),
        summary=(folder / "summary.md").read_text(),
        html=html.unescape((folder / "report.html").read_text()),
        last=proc.stdout.rstrip().splitlines()[-1],
    )
    rc, verdict = proc.returncode, doc["verdict"]
    assert f"\n| {rc} | " in (ROOT / "README.md").read_text(), f"exit {rc} is not in the README's table"
    assert doc["run"]["exitStatus"] == rc and a.junit["exitStatus"] == str(rc), (rc, proc.stdout[-3000:])
    assert a.junit["verdict"] == verdict and f"**{verdict}**" in a.summary.splitlines()[0]
    assert a.summary.splitlines()[0].endswith(f"exit {rc}") and f"; exit {rc}" in a.last, a.last
    assert f'<div class="v">{verdict}</div>' in a.html
    return a


def _stopped(a: SimpleNamespace, kind: str, by: str) -> None:
    """A run that did not reach every selected test: every artifact says how it ended and how far it got; no verdict
    of Pass (the driver's is Fail where a test failed before the end, else Incomplete; the gate's likewise); every
    selected test is listed, those never reached as not run."""
    s, doc = a.scope, a.doc
    assert s["ending"] == kind and by in s["stoppedBy"], s
    assert 0 <= s["ran"] < s["selected"] and s["notRun"] == s["collected"] - s["ran"], s
    failed = any(t["outcome"] in model.FAILING for t in doc["tests"])
    assert doc["verdict"] == ("Fail" if failed else "Incomplete") != "Pass", doc["counts"]
    assert (doc.get("gate") or {}).get("verdict") != "Pass"
    not_run = [t for t in doc["tests"] if t.get("notRun")]
    assert len(doc["tests"]) == s["selected"] and len(not_run) == s["selected"] - s["ran"]
    assert all(t["outcome"] == "Skip" and t["details"].startswith("not run: the run was ") for t in not_run)
    said = f"{scope.ENDINGS[kind]} {s['stoppedBy']} after {s['ran']} of {s['selected']} tests"
    assert said in a.last and said in a.summary.splitlines()[0] and said in a.html, (said, a.last)
    assert said in a.junit["scope.description"] and a.junit["scope.ending"] == kind
    assert a.junit_cases == len(doc["tests"])
    assert f"{s['selected'] - s['ran']} not run" in a.last


def _run_until_started(cmd: list[str], send, timeout: float = 300) -> subprocess.CompletedProcess:
    """Start ``cmd`` in a process group of its own, as a CI job's; once it has run a few tests, ``send(proc)`` (a
    signal), and wait for its end."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    out, err = [], []
    readers = [
        threading.Thread(target=lambda f=f, into=into: into.extend(iter(lambda: f.read(1), "")), daemon=True)
        for f, into in ((proc.stdout, out), (proc.stderr, err))
    ]
    for r in readers:
        r.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        text = "".join(out)
        head = max(text.find(" items]"), text.find("collected "))
        if head >= 0 and text[head:].count(".") >= 12:  # a dozen tests have passed
            break
        time.sleep(0.05)
    assert proc.poll() is None, "".join(out)[-3000:] + "".join(err)[-3000:]
    send(proc)
    proc.wait(timeout=timeout)
    for r in readers:
        r.join(timeout=10)
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out), "".join(err))


def _conformance(out: Path, *args: str) -> list[str]:
    return [str(ROOT / "ci" / "conformance"), "-p", "no:cacheprovider", f"--report-dir={out}", *args]


def test_ctrl_c_in_a_terminal_says_interrupted_everywhere(tmp_path):
    """Ctrl-C in a terminal (SIGINT to every process of the run, workers too) once tests ran: exit 2, and every
    artifact says "interrupted by Ctrl-C (SIGINT) after N of M tests", never Pass."""
    proc = _run_until_started(_conformance(tmp_path), lambda p: os.killpg(p.pid, signal.SIGINT))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    _stopped(_artifacts(proc, tmp_path), "interrupted", "Ctrl-C (SIGINT)")


def test_a_ci_runners_sigterm_still_writes_every_report(tmp_path):
    """A CI runner ends the job at its time limit with SIGTERM to every process of it: the run ends as on Ctrl-C,
    its reports written (by default SIGTERM kills it with none), "terminated by SIGTERM"; the gate gives no Pass
    either (Incomplete, or Fail where a test it expects was never reached: deqp-runner's Missing), and the run exits 2.
    The workers' tests cut off by it are not reached, never a Crash."""
    proc = _run_until_started(_conformance(tmp_path, BASELINE), lambda p: os.killpg(p.pid, signal.SIGTERM))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    a = _artifacts(proc, tmp_path)
    _stopped(a, "terminated", "SIGTERM")
    g = a.doc["gate"]["verdict"]
    assert g in ("Incomplete", "Fail") and a.junit["gate.verdict"] == g and f"gate **{g}**" in a.summary.splitlines()[0]
    assert not any(t["outcome"] == "Crash" for t in a.doc["tests"]), a.doc["counts"]


def test_sigterm_to_a_run_without_xdist(tmp_path):
    """SIGTERM to the one process that runs the tests (no xdist): the same story."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", f"--report-dir={tmp_path}"]
    proc = _run_until_started([*cmd, *CONFORMANCE], lambda p: p.send_signal(signal.SIGTERM))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    _stopped(_artifacts(proc, tmp_path), "terminated", "SIGTERM")


def test_the_run_timeout_stops_the_run_and_says_so(tmp_path):
    """--vk-run-timeout: the tests stop, the results so far are written, every artifact says "stopped by
    --vk-run-timeout 6 s after N of M tests" (and the verdict line comes last), exit 2."""
    proc = subprocess.run(
        _conformance(tmp_path, "--vk-run-timeout", "6"), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "the run passed --vk-run-timeout 6 s" in proc.stderr
    _stopped(_artifacts(proc, tmp_path), "run-timeout", "--vk-run-timeout 6 s")


def test_a_run_stopped_at_its_first_failure_says_so(tmp_path):
    """-x: the run stops at the first failure; Fail, exit 1, and every artifact says it stopped by --maxfail 1."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", f"--report-dir={tmp_path}"]
    proc = subprocess.run(
        [*cmd, *DOUBLES, "-x", "-k", "passing_neighbour or failing_driver or zzz_after"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    a = _artifacts(proc, tmp_path)
    _stopped(a, "maxfail", "--maxfail 1")
    assert a.doc["verdict"] == "Fail" and a.scope["ran"] == 2


def test_workers_that_keep_crashing_stop_the_run_and_it_says_so(tmp_path):
    """A worker that dies where xdist may not replace it (--max-worker-restart 0): the crash is a Crash, the tests
    after it are not run, and every artifact says the run stopped at xdist's limit; exit 1."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "1", "--max-worker-restart=0"]
    proc = subprocess.run(
        [*cmd, f"--report-dir={tmp_path}", *DOUBLES, "-k", "passing_neighbour or call_that_crashes or zzz_after"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))),
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    a = _artifacts(proc, tmp_path)
    _stopped(a, "workers-crashed", "crashed")
    assert a.doc["counts"].get("Crash") == 1 and a.doc["verdict"] == "Fail"


def test_a_completed_selection_and_a_shard_may_pass(tmp_path):
    """A run that reached every test it selected (a file, a shard of it) says it completed and may pass: a partial
    run is no incomplete one."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist"]
    for name, extra in (("file", []), ("shard", ["--shard", "1/2"])):
        out = tmp_path / name
        proc = subprocess.run(
            [*cmd, f"--report-dir={out}", *extra, "suites/validation/test_vkMapMemory2.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
        a = _artifacts(proc, out)
        assert a.scope["ending"] == "completed" and a.scope["ran"] == a.scope["selected"], a.scope
        assert a.doc["verdict"] == "Pass" and a.junit["scope.ending"] == "completed"
        assert not any(t.get("notRun") for t in a.doc["tests"]) and "not run" not in a.last.split("nothing is")[0]


def _doc(tests: list[dict], s: dict) -> dict:
    return {
        "schemaVersion": 1,
        "run": {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h", "exitStatus": 2,
                "scope": s},
        "driver": None,
        **model.summarise(tests, scope.complete(s)),
    }  # fmt: skip


def _t(nodeid: str, outcome: str, details: str | None = None, **kw) -> dict:
    return {"nodeid": nodeid, "outcome": outcome, "duration": 0.1, "covers": [], "violates": [], "vkresults": {},
            "details": details, **kw}  # fmt: skip


def test_the_verdict_rule_withholds_pass_from_a_run_that_stopped_early():
    """A bad observation for the rule: tests that all passed, in a run that stopped before its last; the verdict is
    Incomplete, the gate's Pass is withheld, the exit status is 2; a failure still fails; a completed run passes."""
    passed = [_t("a", "Pass"), _t("b", "Skip", "not run: the run was interrupted by Ctrl-C (SIGINT)", notRun=True)]
    s = scope.counted(None, 1, 2, 2, ("interrupted", "Ctrl-C (SIGINT)"))
    assert model.verdict(passed, scope.complete(s)) == "Incomplete" and not scope.complete(s)
    assert model.verdict([*passed, _t("c", "Fail")], False) == "Fail"
    assert model.verdict(passed[:1], True) == "Pass" and model.verdict([], False) == "Incomplete"
    assert scope.exit_status(s, 0) == 2 and scope.exit_status(s, 1) == 1
    doc = _doc(passed, s)
    doc["gate"] = {"verdict": "Pass", "exitStatus": 0}
    assert "gate Incomplete, exit 2" in scope.withhold(doc)
    assert doc["gate"] == {"verdict": "Incomplete", "exitStatus": 2}
    complete = _doc(passed[:1], scope.counted(None, 1, 1, 1))
    complete["gate"] = {"verdict": "Pass", "exitStatus": 0}
    assert scope.withhold(complete) is None and complete["gate"]["verdict"] == "Pass"
    assert scope.complete({"partial": None, "ran": 3, "collected": 3})  # an older document: as it says
    table = (ROOT / "README.md").read_text().split("## Exit codes", 1)[1]
    row = next(line for line in table.splitlines() if line.startswith("| 2 | "))
    assert all(w in row for w in ("Ctrl-C", "SIGTERM", "--vk-run-timeout", "Incomplete")), row


def test_every_writer_says_how_a_run_ended():
    """The same stopped run in every writer: the terminal's verdict line, summary.md, junit.xml and report.html say
    "stopped by --vk-run-timeout 15 s after 1 of 524 tests" and none says Pass; a merge of it stays Incomplete."""
    from vkmap_cts.reports.__main__ import merge
    from vkmap_cts.reports.results import verdict_line

    s = scope.counted(None, 1, 524, 524, ("run-timeout", "--vk-run-timeout 15 s"))
    doc = _doc([_t("a", "Pass")], s)
    said = "stopped by --vk-run-timeout 15 s after 1 of 524 tests; nothing is claimed about the 523 not run"
    line, summary = verdict_line(doc), render.summary_md(doc)
    props = dict(render.run_properties(doc))
    page = html.unescape(report(doc))
    assert doc["verdict"] == "Incomplete" and said in line and "verdict Incomplete" in line, line
    assert "**Incomplete**" in summary.splitlines()[0] and said in summary
    assert props["verdict"] == "Incomplete" and props["scope.ending"] == "run-timeout"
    assert said in props["scope.description"]
    assert said in page and '<div class="v">Incomplete</div>' in page and '<div class="v">Pass</div>' not in page
    merged = merge([("a", doc), ("b", _doc([_t("b", "Pass")], scope.counted(None, 1, 1, 1)))])
    assert merged["verdict"] == "Incomplete" and merged["run"]["scope"]["ending"] == "run-timeout"
    assert re.search(r"after 2 of 525 tests", scope.describe(merged["run"]["scope"]))
