"""Self-tests of the gate's statuses (reports/gate.py), deqp-runner's: every transition of a result against its
baseline line, through ``ci/merge --gate`` on result folders built here and through real runs on a driver double
(VK_LAYER_VKMAP_buggy over lavapipe), each read back from every artifact: the terminal, summary.md, report.html,
junit.xml, results.json, results.csv and failures.csv.  A failure the baseline expects, as it expects it, is cheap (no
re-runs, shrinking or reproducer); a different one is new and loud."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from vkmap_cts.fixtures.plugins import verdicts
from vkmap_cts.reports import gate, model
from vkmap_cts.suites.selftest.doubles import buggy_layer

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "results.schema.json").read_text())
FAILS = ("Fail", "Crash", "Timeout", "InternalError", "Missing")  # and UnexpectedImprovement: they fail the gate


def _t(nodeid: str, outcome: str, **kw) -> dict:
    base = {"nodeid": nodeid, "outcome": outcome, "duration": 0.25, "covers": [], "violates": [], "vkresults": {}}
    return base | {"details": f"{outcome}: what the test said"} | kw


def _folder(path: Path, tests: list[dict], label: str = "job") -> Path:
    """A report folder with the results.json of a run of ``tests``."""
    path.mkdir(parents=True)
    run = {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h", "label": label}
    (path / "results.json").write_text(json.dumps({"schemaVersion": 1, "run": run, **model.summarise(tests)}))
    return path


def _merge(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "ci" / "merge"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _artifacts(folder: Path) -> SimpleNamespace:
    """Every artifact of a report folder, read back: per test its status in results.json, results.csv and junit.xml,
    the lines of failures.csv, the text of summary.md and report.html."""
    doc = json.loads((folder / "results.json").read_text())
    jsonschema.validate(doc, SCHEMA)

    def csv(name: str) -> dict[str, str]:
        rows = [line.rsplit(",", 2) for line in (folder / name).read_text().splitlines()]
        return {test: status for test, status, _ in rows}

    junit = {}
    for case in ET.parse(folder / "junit.xml").getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.find("properties")}
        verdict = next((c for c in case if c.tag != "properties"), None)
        junit[case.get("name")] = (
            props.get("gate.status", props["outcome"]),
            None if verdict is None else verdict.tag,
            "" if verdict is None else verdict.get("message", ""),
        )
    return SimpleNamespace(
        doc=doc,
        status={t["nodeid"]: gate.status_of(t) for t in doc["tests"]},
        results_csv=csv("results.csv"),
        failures_csv=csv("failures.csv"),
        junit=junit,
        summary=(folder / "summary.md").read_text(),
        html=html.unescape((folder / "report.html").read_text()),
    )


# Each transition: (test, its outcome, the baseline's line for it or None, deqp-runner's status, what every report says)
TRANSITIONS = [
    ("t.py::fail_as_expected", "Fail", "Fail", "ExpectedFail", "expected by fails.txt:1"),
    ("t.py::fail_to_crash", "Crash", "Fail", "Crash", "expected Fail, got Crash (fails.txt:2)"),
    ("t.py::fail_to_timeout", "Timeout", "Fail", "Timeout", "expected Fail, got Timeout (fails.txt:3)"),
    (
        "t.py::crash_to_fail",
        "Fail",
        "Crash",
        "UnexpectedImprovement(Fail)",
        "expected Crash, got Fail (fails.txt:4): change that line to Fail",
    ),
    (
        "t.py::fail_to_pass",
        "Pass",
        "Fail",
        "UnexpectedImprovement(Pass)",
        "expected Fail, got Pass (fails.txt:5): delete that line",
    ),
    (
        "t.py::crash_to_pass",
        "Pass",
        "Crash",
        "UnexpectedImprovement(Pass)",
        "expected Crash, got Pass (fails.txt:6): delete that line",
    ),
    ("t.py::flake_named_by_the_baseline", "Fail", "Flake", "KnownFlake", "a known flake, named by fails.txt:7"),
    ("t.py::flake_named_by_flakes", "Crash", None, "KnownFlake", "a known flake, named by --flakes"),
    ("t.py::flake_unnamed", "Flake", None, "Flake", "failed, then passed when re-run (Fail,Pass)"),
    ("t.py::never_reached", "Skip", "Fail", "Missing", "fails.txt:8 names it; the run selected it and never reached"),
    ("t.py::suite_error", "InternalError", "Fail", "InternalError", "the suite's own error, which no baseline can"),
    ("t.py::suite_error_listed", "InternalError", "InternalError", "InternalError", "the suite's own error"),
    ("t.py::new_failure", "Fail", None, "Fail", "NEW, not in the baseline fails.txt"),
    ("t.py::reached_no_line", "Skip", None, "Skip", None),
    ("t.py::passes", "Pass", None, "Pass", None),
]


def _transition_run(tmp_path: Path) -> Path:
    tests = []
    for nodeid, outcome, _, _, _ in TRANSITIONS:
        extra = {"attempts": ["Fail", "Pass"]} if outcome == "Flake" else {}
        extra |= {"notRun": True, "details": "not run: the run was interrupted"} if "never" in nodeid else {}
        tests.append(_t(nodeid, outcome, **extra))
    _folder(tmp_path / "run", tests)
    (tmp_path / "fails.txt").write_text(
        "".join(f"{nodeid},{line}\n" for nodeid, _, line, _, _ in TRANSITIONS if line and line != "InternalError")
        + "t.py::suite_error_listed,InternalError\n"  # a line of a run's own failures.csv: it expects nothing
    )
    (tmp_path / "flakes.txt").write_text("^t\\.py::flake_named_by_flakes$\n")
    return tmp_path / "run"


def test_every_transition_through_ci_merge_gate_reads_alike_in_every_artifact(tmp_path):
    """A folder with every transition, re-gated by ci/merge --gate: each test's deqp-runner status in results.json,
    results.csv and junit.xml, what the gate says of it in the terminal, summary.md and report.html, failures.csv
    holding exactly what fails the gate, and exit 1."""
    _transition_run(tmp_path)
    proc = _merge(tmp_path, "run", "-o", "merged", "--gate", "--baseline=fails.txt", "--flakes=flakes.txt")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    a = _artifacts(tmp_path / "merged")
    want = {nodeid: status for nodeid, _, _, status, _ in TRANSITIONS}
    assert a.status == want and a.results_csv == want
    assert {case: status for case, (status, _, _) in a.junit.items()} == {n.split("::")[1]: s for n, s in want.items()}
    failing = {n for n, s in want.items() if s in FAILS or s.startswith("UnexpectedImprovement")}
    assert set(a.failures_csv) == failing and set(a.doc["gate"]["failures"]) == failing
    assert a.doc["gate"]["verdict"] == "Fail" and a.doc["run"]["exitStatus"] == 1
    g = a.doc["gate"]
    assert (g["expected"], g["missing"]) == (["t.py::fail_as_expected"], ["t.py::never_reached"])
    assert set(g["flakes"]) == {f"t.py::flake_{x}" for x in ("named_by_the_baseline", "named_by_flakes", "unnamed")}
    for nodeid, outcome, _, status, said in TRANSITIONS:
        if said is None:
            continue
        note = gate.note(next(t for t in a.doc["tests"] if t["nodeid"] == nodeid), g)
        assert note.startswith(f"{status}: {said}"), (nodeid, note)
        assert said in a.summary and said in a.html, nodeid
        if status not in ("ExpectedFail", "KnownFlake"):  # the known is quiet on the terminal
            assert f"  {status}: {nodeid} ({said}" in proc.stdout, (nodeid, proc.stdout)
        tag = a.junit[nodeid.split("::")[1]][1]
        fails = status in FAILS or status.startswith("UnexpectedImprovement")
        assert tag == ("error" if status in ("Crash", "InternalError", "Missing") else "failure" if fails else tag)
        assert fails or tag in (None, "skipped"), (nodeid, tag)
        if outcome in ("Fail", "Crash", "Timeout") and fails:
            assert said in a.junit[nodeid.split("::")[1]][2]
    assert "fail_as_expected" not in proc.stdout.split("vkmap-cts: gate against")[0]
    assert "ExpectedFail: expected by fails.txt:1" in a.junit["fail_as_expected"][2]
    assert a.junit["fail_as_expected"][1] == "skipped"


def test_improvements_fail_the_gate_unless_allowed(tmp_path):
    """A test the baseline expects to fail that passes, or fails less, fails the gate (exit 1) and says which line to
    delete or change; --allow-improvements makes it a warning (exit 0) and the report says it was allowed."""
    tests = [_t("t.py::fixed", "Pass"), _t("t.py::less", "Fail"), _t("t.py::known", "Fail")]
    _folder(tmp_path / "run", tests)
    (tmp_path / "fails.txt").write_text("t.py::fixed,Fail\nt.py::less,Timeout\nt.py::known,Fail\n")
    proc = _merge(tmp_path, "run", "-o", "strict", "--gate", "--baseline=fails.txt")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "UnexpectedImprovement(Pass): t.py::fixed (expected Fail, got Pass (fails.txt:1): delete that line)" in (
        proc.stdout
    )
    assert "change that line to Fail" in proc.stdout and "2 failing the gate" in proc.stdout
    a = _artifacts(tmp_path / "strict")
    assert set(a.failures_csv) == {"t.py::fixed", "t.py::less"}
    proc = _merge(tmp_path, "run", "-o", "allowed", "--gate", "--baseline=fails.txt", "--allow-improvements")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    a = _artifacts(tmp_path / "allowed")
    assert a.failures_csv == {} and a.doc["gate"]["improvements"] == ["t.py::fixed", "t.py::less"]
    assert "(allowed)" in proc.stdout and "(allowed)" in a.summary and "improvements allowed" in a.html
    assert a.junit["fixed"][1] == "skipped" and a.results_csv["t.py::fixed"] == "UnexpectedImprovement(Pass)"


def test_a_runs_failures_csv_is_its_baseline_as_it_is(tmp_path):
    """Without a baseline, failures.csv holds every failing result; read back as the baseline, each of them is an
    ExpectedFail but the suite's own error, which no baseline can expect."""
    tests = [
        _t("t.py::f", "Fail"),
        _t("t.py::c", "Crash"),
        _t("t.py::h", "Timeout"),
        _t("t.py::e", "InternalError"),
        _t("t.py::p", "Pass"),
        _t("t.py::flaky", "Flake", attempts=["Fail", "Pass"]),
    ]
    _folder(tmp_path / "run", tests)
    assert _merge(tmp_path, "run", "-o", "first").returncode == 0
    first = (tmp_path / "first" / "failures.csv").read_text()
    assert {line.split(",")[0] for line in first.splitlines()} == {"t.py::f", "t.py::c", "t.py::h", "t.py::e"}
    assert "gate" not in json.loads((tmp_path / "first" / "results.json").read_text())["tests"][0]
    proc = _merge(tmp_path, "run", "-o", "again", "--gate", "--baseline=first/failures.csv")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    a = _artifacts(tmp_path / "again")
    assert sorted(a.doc["gate"]["expected"]) == ["t.py::c", "t.py::f", "t.py::h"] and a.failures_csv == {
        "t.py::e": "InternalError"
    }


def test_bad_gate_input_to_merge_is_one_line_and_exit_4(tmp_path, capsys):
    """merge --gate with a flakes file that is not there, or a baseline line of a judged status (ExpectedFail says
    nothing of the outcome expected): one line, exit 4."""
    from vkmap_cts.reports.__main__ import main

    _folder(tmp_path / "run", [_t("t.py::a", "Fail")])
    (tmp_path / "judged.txt").write_text("t.py::a,ExpectedFail\n")
    for args in (["--flakes", str(tmp_path / "none.txt")], ["--baseline", str(tmp_path / "judged.txt")]):
        assert main(["merge", str(tmp_path / "run"), "-o", str(tmp_path / "m"), "--gate", *args]) == 4, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("vkmap-cts: error: "), err


def test_a_shard_judges_only_its_own_tests(tmp_path):
    """A baseline line for a test of another shard is not Missing in this one; merged, the shards are judged whole."""
    _folder(tmp_path / "s1", [_t("t.py::a", "Fail"), _t("t.py::b", "Pass")])
    _folder(tmp_path / "s2", [_t("t.py::c", "Pass")])
    (tmp_path / "fails.txt").write_text("t.py::a,Fail\nt.py::c,Crash\n")
    proc = _merge(tmp_path, "s1", "-o", "one", "--gate", "--baseline=fails.txt")
    assert proc.returncode == 0 and "1 ExpectedFail" in proc.stdout, proc.stdout + proc.stderr
    proc = _merge(tmp_path, "s1", "s2", "-o", "both", "--gate", "--baseline=fails.txt")
    assert proc.returncode == 1 and "UnexpectedImprovement(Pass): t.py::c" in proc.stdout, proc.stdout


def test_diff_reads_the_old_run_as_the_new_ones_baseline(tmp_path):
    """diff: Fail -> Crash is a regression (fail-changed), Crash -> Fail a fix, as deqp-runner's statuses say."""
    from vkmap_cts.reports.__main__ import diff, main

    old = {"run": {}, "tests": [_t("a", "Fail"), _t("b", "Crash"), _t("c", "Timeout")]}
    new = {"run": {}, "tests": [_t("a", "Crash"), _t("b", "Fail"), _t("c", "Timeout")]}
    result = diff(old, new)
    assert result["fail-changed"] == [("a", "Fail -> Crash")] and result["fixed"] == [("b", "Crash -> Fail")]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 1
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--allow", "fail-changed"]) == 0


def test_the_terminal_shows_a_driver_verdict_as_its_reason_and_keeps_a_suite_error_whole():
    """pytest's own account of a failure: a verdict about the driver is its check's one line, never the test's source;
    the suite's own error keeps its traceback."""
    source = "def test_x():\n>       assert_aligned(result)\nE       RuleBroken: ..."

    def report(kind):
        info = {"kind": kind, "type": "RuleBroken", "message": "GUARANTEE-map-alignment: misaligned by 8\nmore"}
        return SimpleNamespace(failed=True, longrepr=source, user_properties=[("failure", info)])

    driver, suite = report("driver"), report("suite")
    verdicts.pytest_runtest_logreport(driver)
    verdicts.pytest_runtest_logreport(suite)
    assert driver.longrepr.splitlines()[0] == "GUARANTEE-map-alignment: misaligned by 8"
    assert "assert_aligned" not in driver.longrepr and suite.longrepr == source


# --- real runs on the buggy layer ------------------------------------------------------------------

NODEID = "suites/operation/test_alignment.py::test_every_map_is_aligned[vkMapMemory2KHR]"


@pytest.fixture(scope="module")
def layer(tmp_path_factory, physical_device):
    if "llvmpipe" not in physical_device.name:
        pytest.skip(f"NotSupported: the layer is a double over lavapipe; this run judges {physical_device.name}")
    try:
        return buggy_layer.build(tmp_path_factory.mktemp("buggy-layer"))
    except buggy_layer.CannotBuild as e:
        pytest.skip(f"NotSupported: {e}")


def _real_run(tmp_path: Path, layer, bug: str | None, line: str, *options: str):
    """NODEID run on lavapipe behind the buggy layer with ``bug`` (None: no layer), gated by a baseline of ``line``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    baseline = tmp_path / "fails.txt"
    baseline.write_text(f"{NODEID},{line}\n")
    env = dict(os.environ, **(buggy_layer.enabling(layer, bug) if bug else {}))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--hypothesis-profile=ci", f"--report-dir={out}"]
    cmd += [NODEID, f"--baseline={baseline}", *(options or ("-p", "no:xdist"))]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert (out / "results.json").is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    a = _artifacts(out)
    (a.test,) = a.doc["tests"]
    a.reproducers = sorted(p.name for p in (out / "reproducers").glob("*.c"))
    return proc, a


def test_a_known_fail_that_crashes_fails_the_gate_and_is_loud(layer, tmp_path):
    """Fail expected, Crash observed: the gate fails (exit 1) and every artifact names the change; the crash gets its
    re-run alone and its reproducer, as a new failure does."""
    proc, a = _real_run(tmp_path, layer, "crash", "Fail", "-n", "1", "--vk-call-timeout=1", "--vk-test-timeout=60")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert a.test["outcome"] == "Crash" and a.status[NODEID] == "Crash" and a.results_csv == {NODEID: "Crash"}
    said = f"expected Fail, got Crash ({tmp_path / 'fails.txt'}:1)"
    assert f"Crash: {NODEID} ({said})" in proc.stdout and said in a.summary and said in a.html
    assert a.junit["test_every_map_is_aligned[vkMapMemory2KHR]"][:2] == ("Crash", "error")
    assert said in a.junit["test_every_map_is_aligned[vkMapMemory2KHR]"][2] and a.failures_csv == {NODEID: "Crash"}
    assert a.test.get("crash_input") and a.reproducers, a.test.get("standalone")
    assert 'class="mark new">new<' in (tmp_path / "out" / "report.html").read_text() and "next step" in a.html


def test_a_known_crash_that_crashes_is_cheap(layer, tmp_path):
    """Crash expected, Crash observed: ExpectedFail, exit 0, and no re-run alone for its input or reproducer."""
    proc, a = _real_run(tmp_path, layer, "crash", "Crash", "-n", "1", "--vk-call-timeout=1", "--vk-test-timeout=60")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert a.status[NODEID] == "ExpectedFail" and a.failures_csv == {} and a.results_csv == {NODEID: "ExpectedFail"}
    assert "crash_input" not in a.test and not a.reproducers and "re-running" not in proc.stderr


def test_a_known_fail_that_passes_is_an_unexpected_improvement(layer, tmp_path):
    """Fail expected, Pass observed (no bug): UnexpectedImprovement(Pass) fails the gate and names the line to delete;
    --allow-improvements turns it into a warning."""
    proc, a = _real_run(tmp_path, layer, None, "Fail")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert a.status[NODEID] == "UnexpectedImprovement(Pass)" and a.failures_csv == {NODEID: a.status[NODEID]}
    said = f"expected Fail, got Pass ({tmp_path / 'fails.txt'}:1): delete that line"
    assert said in proc.stdout and said in a.summary and said in a.html
    case = a.junit["test_every_map_is_aligned[vkMapMemory2KHR]"]
    assert case[:2] == ("UnexpectedImprovement(Pass)", "failure") and said in case[2]
    proc, a = _real_run(tmp_path / "allowed", layer, None, "Fail", "-p", "no:xdist", "--allow-improvements")
    assert proc.returncode == 0 and a.failures_csv == {} and "(allowed)" in proc.stdout, proc.stdout[-3000:]


def test_a_known_fail_that_fails_as_expected_is_cheap_unless_asked(layer, tmp_path):
    """Fail expected, Fail observed (misaligned maps): ExpectedFail, exit 0, run once, not shrunk, no reproducer, and
    the terminal shows the check's reason, not the test's source; --expected-in-full brings the re-runs, the shrinking
    and the reproducer back."""
    stats = ("-p", "no:xdist", "--hypothesis-show-statistics")
    proc, a = _real_run(tmp_path, layer, "misaligned", "Fail", *stats)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert a.status[NODEID] == "ExpectedFail" and a.failures_csv == {} and "attempts" not in a.test
    assert not a.reproducers and "--expected-in-full" in a.test["standalone"]["reason"]
    assert "shrink phase" not in proc.stdout and "GUARANTEE-map-alignment: " in proc.stdout
    assert "def test_every_map_is_aligned" not in proc.stdout and "mapped_alignment(" not in proc.stdout
    assert 'class="mark expected">expected<' in (tmp_path / "out" / "report.html").read_text()
    assert "known and gated by" in a.html
    proc, a = _real_run(tmp_path / "full", layer, "misaligned", "Fail", *stats, "--expected-in-full")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert a.status[NODEID] == "ExpectedFail" and a.test["attempts"] == ["Fail", "Fail", "Fail"]
    assert a.reproducers and "shrink phase" in proc.stdout
