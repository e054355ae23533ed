"""Self-tests of the verdict story: a partial run, a gated run and a run that found no device with VK_KHR_map_memory2
each leave results.json, summary.md, junit.xml, report.html and a terminal whose last line agree with the status the
process exits with; a failure's re-run command re-runs it; failures are grouped by the rule they break."""

import html
import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from vkmap_cts.fixtures.plugins import console
from vkmap_cts.fixtures.plugins.results import pytest_report_teststatus
from vkmap_cts.reports import gate, model, render
from vkmap_cts.reports.results import shell_words
from vkmap_cts.suites.selftest.doubles import buggy_layer

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "results.schema.json").read_text())
CONFORMANCE = ("suites/validation", "suites/operation", "suites/return_codes")
DOUBLES = (
    "-c",
    str(ROOT / "pyproject.toml"),
    f"--rootdir={ROOT}",
    "--override-ini",
    "collect_ignore_glob=",
    "-o",
    "python_files=driver_doubles.py",
    "suites/selftest/doubles/driver_doubles.py",
)
FAILING_DOUBLE = "suites/selftest/doubles/driver_doubles.py::test_failing_driver"


def _pytest(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        timeout=timeout,
    )


def _read(folder: Path) -> SimpleNamespace:
    """Every artifact of a report folder, read back."""
    doc = json.loads((folder / "results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    suite = ET.parse(folder / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    page = html.unescape((folder / "report.html").read_text())
    return SimpleNamespace(doc=doc, summary=(folder / "summary.md").read_text(), junit=props, html=page)


def _agree(proc, folder: Path) -> SimpleNamespace:
    """What every run's artifacts hold alike: the status the process exited with, and one verdict."""
    a = _read(folder)
    rc, verdict = proc.returncode, a.doc["verdict"]
    assert a.doc["run"]["exitStatus"] == rc, (a.doc["run"]["exitStatus"], rc, proc.stdout[-3000:])
    assert a.junit["exitStatus"] == str(rc) and a.junit["verdict"] == verdict, a.junit
    head = a.summary.splitlines()[0]
    assert f"**{verdict}**" in head and head.endswith(f"exit {rc}"), head
    assert verdict in a.html
    last = proc.stdout.rstrip().splitlines()[-1]
    assert last.startswith("vkmap-cts: ") and f"; exit {rc}" in last, proc.stdout[-3000:]
    a.last = last
    return a


def test_a_partial_run_says_partial_in_every_artifact(tmp_path):
    """--vuid 07959 runs a few of the suite's tests: every artifact says partial, what selected it and how many tests
    were not run, and the re-run base keeps no selection or report option."""
    out = tmp_path / "r"
    proc = _pytest("--vuid", "07959", "--hypothesis-profile=ci", f"--report-dir={out}", "-p", "no:xdist", *CONFORMANCE)
    assert proc.returncode == 0, proc.stdout[-3000:]
    a = _agree(proc, out)
    s = a.doc["run"]["scope"]
    assert s["partial"] == "--vuid 07959" and 0 < s["ran"] < s["collected"], s
    assert s["notRun"] == s["collected"] - s["ran"]
    assert a.last.startswith("vkmap-cts: partial run (--vuid 07959): ") and f"{s['notRun']} not run" in a.last
    assert "partial" in a.summary.splitlines()[0] and f"{s['notRun']} not run" in a.summary
    assert a.junit["scope"] == "partial" and a.junit["scope.partial"] == "--vuid 07959"
    assert a.junit["scope.notRun"] == str(s["notRun"])
    assert "partial" in a.html.lower() and "--vuid 07959" in a.html
    base = a.doc["run"]["rerunBase"]
    assert "--hypothesis-profile=ci" in base and not any(
        w.startswith(("--vuid", "--report-dir", "suites")) or w == "07959" for w in base
    ), base


def test_a_full_run_is_said_to_be_one():
    """The scope of a run of every conformance test is "full", in words and in JUnit's properties."""
    doc = {"verdict": "Pass", "run": {"exitStatus": 0, "scope": {"partial": None, "ran": 3, "collected": 3}}}
    assert dict(render.run_properties(doc))["scope"] == "full"
    assert dict(render.run_properties(doc))["scope.description"] == "full run: 3 tests"


def test_not_supported_is_never_called_skipped():
    """pytest's own lines call a test the driver cannot run NotSupported; a deqp-runner Skip stays a skip."""

    def report(reason):
        return SimpleNamespace(skipped=True, passed=False, longrepr=("f.py", 1, f"Skipped: {reason}"))

    assert pytest_report_teststatus(report("NotSupported: no VK_EXT_map_memory_placed"), None)[0] == "NotSupported"
    assert pytest_report_teststatus(report("--skips skips.txt:3"), None) is None


def test_a_run_with_tests_the_driver_cannot_run_says_not_supported(tmp_path):
    """The placed-map tests on a driver without VK_EXT_map_memory_placed: pytest's summary line counts them as
    NotSupported and no line calls them skipped; the verdict is still the last line."""
    proc = _pytest("--vuid", "placed", f"--report-dir={tmp_path}", "-p", "no:xdist", *CONFORMANCE)
    a = _agree(proc, tmp_path)
    n = a.doc["counts"].get("NotSupported", 0)
    if not n:
        pytest.skip("NotSupported: this driver has VK_EXT_map_memory_placed, so no test here is NotSupported")
    stats = [x for x in proc.stdout.splitlines() if x.startswith("=") and " in " in x][-1]
    assert f"{n} NotSupported" in stats, stats
    assert "skipped" not in proc.stdout.lower(), proc.stdout[-3000:]


@pytest.mark.parametrize(("listed", "status"), [(True, 0), (False, 1)])
def test_a_gated_run_tells_the_gates_verdict_beside_the_drivers(tmp_path, listed, status):
    """A failing test the baseline lists: the driver's verdict stays Fail, the gate passes and the run exits 0, and
    every artifact says both and that the failure was expected; not listed: the gate fails with a new failure, exit
    1.  ``merge --gate`` tells the same gate."""
    baseline = tmp_path / "fails.txt"
    baseline.write_text(f"{FAILING_DOUBLE},Fail\n" if listed else "# nothing expected\n")
    out = tmp_path / "r"
    proc = _pytest(
        *DOUBLES, "-k", "test_failing_driver", "--flake-reruns=0", f"--baseline={baseline}", f"--report-dir={out}"
    )
    assert proc.returncode == status, proc.stdout[-3000:]
    a = _agree(proc, out)
    g = a.doc["gate"]
    verdict = "Pass" if listed else "Fail"
    assert a.doc["verdict"] == "Fail" and g["verdict"] == verdict and g["exitStatus"] == status
    assert g["baseline"] == str(baseline)
    assert (g["expected"], g["newFailures"]) == (([FAILING_DOUBLE], []) if listed else ([], [FAILING_DOUBLE]))
    gate_line, verdict_line = proc.stdout.rstrip().splitlines()[-2:]
    assert gate_line.startswith(f"vkmap-cts: gate against {baseline} (deqp-runner's statuses): {0 if listed else 1} ")
    assert gate_line.endswith(f": {verdict}, exit {status}") and f"gate {verdict} against" in verdict_line
    assert f"gate **{verdict}**" in a.summary.splitlines()[0]
    said = f"ExpectedFail: expected by {baseline}:1" if listed else f"Fail: NEW, not in the baseline {baseline}"
    assert said in a.summary and said in proc.stdout
    assert (a.junit["gate.verdict"], a.junit["gate.exitStatus"]) == (verdict, str(status))
    assert a.junit["gate.expected"] == str(int(listed)) and a.junit["gate.newFailures"] == str(int(not listed))
    assert gate.status_of(a.doc["tests"][0]) == ("ExpectedFail" if listed else "Fail")
    assert str(baseline) in a.html and "gate" in a.html.lower()

    merged = subprocess.run(
        [sys.executable, "-m", "vkmap_cts.reports", "merge", str(out), "-o", str(tmp_path / "m"), "--gate"]
        + [f"--baseline={baseline}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert merged.returncode == status, merged.stdout + merged.stderr
    assert gate_line in merged.stdout and merged.stdout.rstrip().endswith(f"exit {status}; report in {tmp_path / 'm'}")
    doc = json.loads((tmp_path / "m" / "results.json").read_text())
    assert doc["gate"] == g and doc["run"]["exitStatus"] == status


def test_lavapipes_known_failure_passes_its_gate(tmp_path):
    """Lavapipe 25.0.7 through ci/conformance with ci/lavapipe-fails.txt: its RLIMIT_AS finding fails the driver and is
    expected by the gate, so the run exits 0 and says so in every artifact; ci/conformance runs only the test ID it
    is given, and is the command that re-runs it."""
    nodeid = (ROOT / "ci" / "lavapipe-fails.txt").read_text().strip().splitlines()[-1].rsplit(",", 1)[0]
    given = [nodeid, "--baseline=ci/lavapipe-fails.txt", f"--report-dir={tmp_path}"]
    proc = subprocess.run(
        [str(ROOT / "ci" / "conformance"), *given], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    a = _read(tmp_path)
    if not (a.doc["driver"]["driverInfo"] or "").startswith("Mesa 25.0.7"):
        pytest.skip(f"NotSupported: the baseline is lavapipe 25.0.7's; this driver is {a.doc['driver']['driverInfo']}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    a = _agree(proc, tmp_path)
    assert [t["nodeid"] for t in a.doc["tests"]] == [nodeid] and a.doc["run"]["command"] == ["ci/conformance", *given]
    assert a.doc["verdict"] == "Fail" and a.doc["gate"]["expected"] == [nodeid] and a.doc["gate"]["verdict"] == "Pass"
    assert "1 ExpectedFail" in a.last and "gate Pass" in a.last
    assert a.doc["tests"][0]["gate"]["status"] == "ExpectedFail" and "attempts" not in a.doc["tests"][0]
    assert a.doc["tests"][0]["rerun"] == f"ci/conformance --hypothesis-profile=ci {shlex.quote(nodeid)}"


def test_vkmap_cts_runs_only_the_test_ids_it_is_given():
    """The vkmap-cts command runs a test ID of the checkout's form (a re-run command) from the installed package, and
    not every suite besides."""
    root = str(console.package_root())
    args = console.command(["--vk-device=0", "suites/validation/test_vkMapMemory2.py::test_x[a]"])
    assert args[-2:] == ["--vk-device=0", f"{root}/suites/validation/test_vkMapMemory2.py::test_x[a]"]
    assert not any(a.startswith(f"{root}/suites") and "::" not in a for a in args), args
    assert f"{root}/suites/validation" in console.command(["--vk-device=0"])


def _no_map2_drivers() -> list:
    cached = ROOT / ".cache" / "matrix" / "icd"
    double = ["-p", "vkmap_cts.suites.selftest.doubles.hidden_map2"]
    return [
        pytest.param({}, double, id="double"),
        pytest.param({}, [*double, "--vk-device", "all"], id="double-every-device"),
        *(
            pytest.param({"VK_DRIVER_FILES": str(cached / f"{row}.json")}, [], id=row)
            for row in ("lavapipe-22", "swiftshader")
        ),
    ]


@pytest.mark.parametrize(("env", "args"), _no_map2_drivers())
def test_a_run_without_map2_writes_a_not_applicable_report(tmp_path, env, args):
    """No device exposes VK_KHR_map_memory2: exit 7 with its one line, and a report folder that says NotApplicable,
    with every device the loader gave and that it lacks the extension."""
    manifest = env.get("VK_DRIVER_FILES")
    library = manifest and Path(manifest).is_file() and json.loads(Path(manifest).read_text())["ICD"]["library_path"]
    if manifest and not (library and Path(library).is_file()):  # a manifest whose library is elsewhere: not cached
        pytest.skip(f"NotSupported: {Path(manifest).stem} is not cached here (ci/matrix --only {Path(manifest).stem})")
    out = tmp_path / "r"
    proc = _pytest(*args, f"--report-dir={out}", "suites/validation/test_vkMapMemory2.py", env=env)
    if manifest and proc.returncode == 6:  # the cached driver cannot load here (another Debian: its LLVM is missing)
        pytest.skip(f"NotSupported: {Path(manifest).stem} does not load here: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 7, proc.stdout[-2000:] + proc.stderr[-2000:]
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("vkmap-cts: error: ") and "no device exposes VK_KHR_map_memory2" in line, proc.stderr
    a = _agree(proc, out)
    assert a.doc["verdict"] == "NotApplicable" and a.doc["tests"] == []
    devices = a.doc["devices"]
    assert devices and all(d["VK_KHR_map_memory2"] is False for d in devices), devices
    for d in devices:
        assert d["deviceName"] in a.summary and d["deviceName"] in a.html and d["deviceName"] in a.last
    assert "VK_KHR_map_memory2 no" in a.summary and a.junit["device.0"].endswith("VK_KHR_map_memory2 no")
    assert "NotApplicable" in a.html


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    try:
        return buggy_layer.build(tmp_path_factory.mktemp("buggy-layer"))
    except buggy_layer.CannotBuild as e:
        pytest.skip(f"NotSupported: {e}")


def test_a_failures_re_run_command_re_runs_it(layer, tmp_path):
    """A driver that misaligns its pointers (the buggy layer): the run's Fail carries a command that, pasted into a
    shell, runs that one test again and fails it on the same rule; every report shows the command."""
    env = buggy_layer.enabling(layer, "misaligned")
    nodeid = "suites/operation/test_alignment.py::test_every_map_is_aligned[vkMapMemory2KHR]"
    out = tmp_path / "r"
    proc = _pytest(
        "-p", "no:xdist", "--flake-reruns=0", "--hypothesis-profile=ci", f"--report-dir={out}",
        "suites/operation/test_alignment.py", env=env,
    )  # fmt: skip
    a = _agree(proc, out)
    (test,) = [t for t in a.doc["tests"] if t["nodeid"] == nodeid]
    assert test["outcome"] == "Fail" and test["rule"] == "GUARANTEE-map-alignment", test.get("message")
    command = test["rerun"]
    assert shlex.split(command)[-1] == nodeid and "--report-dir" not in command, command
    assert command in a.summary and command in proc.stdout and command in a.html
    assert any(g["rule"] == "GUARANTEE-map-alignment" and nodeid in g["tests"] for g in a.doc["failureGroups"])

    again = subprocess.run(
        f"{command} --report-dir={shlex.quote(str(tmp_path / 'again'))}",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, **env),
        timeout=300,
    )
    (repeat,) = json.loads((tmp_path / "again" / "results.json").read_text())["tests"]
    assert (repeat["nodeid"], repeat["outcome"], repeat.get("rule")) == (nodeid, "Fail", test["rule"]), again.stdout


def test_shell_words_keep_each_argument_and_a_leading_assignment():
    """Test IDs with brackets, spaces and quotes survive the shell; a leading VK_DRIVER_FILES= stays an assignment."""
    words = ["VK_DRIVER_FILES=/a dir/icd.json", "ci/conformance", "suites/x.py::test[a b-'c'|d]"]
    line = shell_words(words)
    assert line.startswith("VK_DRIVER_FILES='/a dir/icd.json' ci/conformance ")
    assert shlex.split(line) == words


def _t(nodeid, outcome, rule=None, **kw):
    return {"nodeid": nodeid, "outcome": outcome, "covers": [], "violates": [], "details": None, "rule": rule, **kw}


def test_failures_are_grouped_by_the_rule_they_break():
    """One group per rule, most tests first; the smallest example with a reproducer leads its group; a crash that
    names no rule is "unnamed"; the suite's own errors and flakes are no rule the driver broke."""
    tests = [
        _t("a", "Fail", "GUARANTEE-x", message="m" * 50, sentence="S"),
        _t("b", "Fail", "GUARANTEE-x", message="m" * 90, standalone={"file": "reproducers/b.c"}),
        _t("c", "Fail", "GUARANTEE-x", message="m" * 10),
        _t("d", "Fail", "VUID-y", message="m"),
        _t("e", "Crash"),
        _t("f", "InternalError", "GUARANTEE-x"),
        _t("g", "Flake", "VUID-y"),
        _t("h", "Pass"),
    ]
    groups = model.failure_groups(tests)
    assert [(g["rule"], g["count"], g["tests"]) for g in groups] == [
        ("GUARANTEE-x", 3, ["a", "b", "c"]),
        ("VUID-y", 1, ["d"]),
        ("unnamed", 1, ["e"]),
    ]
    assert (groups[0]["smallest"], groups[0]["reproducer"], groups[0]["sentence"]) == ("b", "reproducers/b.c", "S")
    tests[1].pop("standalone")
    assert model.failure_groups(tests)[0]["smallest"] == "c"


def test_the_gate_judges_new_failures_expected_ones_and_unexpected_improvements():
    """The gate's verdict object: Fail with exit 1 on a failure the baseline does not list, and on a test it lists
    that passes (an UnexpectedImprovement), unless improvements are allowed; Pass otherwise."""
    tests = [_t("a", "Fail"), _t("b", "Pass"), _t("c", "Flake", attempts=["Fail", "Pass"])]
    g = gate.judged(tests, {"a": "Fail", "b": "Fail"}, "fails.txt")
    assert (g["verdict"], g["exitStatus"], g["expected"], g["improvements"], g["flakes"]) == (
        "Fail", 1, ["a"], ["b"], ["c"],
    )  # fmt: skip
    g = gate.judged(tests, {"a": "Fail", "b": "Fail"}, "fails.txt", allow_improvements=True)
    assert (g["verdict"], g["exitStatus"], g["failures"]) == ("Pass", 0, [])
    g = gate.judged(tests, {}, "fails.txt")
    assert (g["verdict"], g["exitStatus"], g["newFailures"]) == ("Fail", 1, ["a"])
    assert gate.lines(g, tests)[0] == "  Fail: a (NEW, not in the baseline fails.txt)"
    assert gate.lines(g, tests)[-1].endswith(": Fail, exit 1")
