"""Self-tests of the reports: schema, escaping, gate, flakes, crash and hang isolation, merge and diff."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from vkmap_cts.reports import gate, model, render

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "results.schema.json").read_text())


def _doc(tests, driver=None):
    return {
        "schemaVersion": 1,
        "run": {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h"},
        "driver": driver or {"deviceName": "GPU", "driverName": "d", "driverInfo": "i", "apiVersion": "1.4.0", "deviceUUID": "00" * 16},
        **model.summarise(tests),
    }


def _t(nodeid, outcome, **kw):
    return {"nodeid": nodeid, "outcome": outcome, "duration": 0.1, "covers": [], "violates": [], "vkresults": {}, "details": None, **kw}


def test_results_of_a_real_run_validate_against_the_schema(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "suites/operation/test_map_memory2.py", f"--report-dir={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    doc = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["driver"]["deviceUUID"] and doc["tests"] and doc["vuidMatrix"]
    for name in ("junit.xml", "results.csv", "failures.csv", "summary.md", "report.html"):
        assert (tmp_path / name).stat().st_size > 0 or name == "failures.csv"


def test_schema_rejects_a_bad_document():
    bad = _doc([_t("a", "Pass")])
    bad["tests"][0]["outcome"] = "Great"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_driver_strings_are_escaped_everywhere():
    evil = {"deviceName": "<script>alert(1)</script>", "driverName": "<img src=x onerror=alert(2)>", "driverInfo": "a|b`c", "apiVersion": "1", "deviceUUID": "u"}
    doc = _doc([_t("t<script>", "Fail", details="<script>x</script>")], evil)
    page = render.report_html(doc)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = render.summary_md(doc)
    assert "<script" not in md and "<img" not in md
    assert "<script" not in render.junit(doc).replace("&lt;script", "")


def test_deqp_csv_form():
    assert render.deqp_csv([_t("suites/a.py::b[x,y]", "Fail")]) == "suites/a.py::b[x;y],Fail,0.100\n"


def test_gate_fails_only_on_new_failures_and_lists_unexpected_passes(tmp_path):
    base = tmp_path / "baseline.txt"
    base.write_text("# comment\nknown,Fail\nfixed,Fail\nflaky,Flake\n")
    expected = gate.load(base)
    result = gate.compare([_t("known", "Crash"), _t("fixed", "Pass"), _t("new", "Timeout"), _t("flaky", "Flake", attempts=["Fail", "Pass"]), _t("ok", "Pass")], expected)
    assert result["new_failures"] == [("new", "Timeout")]
    assert result["expected_failures"] == [("known", "Crash")]
    assert result["unexpected_passes"] == [("fixed", "Fail")]
    assert result["flakes"] == [("flaky", "Fail,Pass")]
    base.write_text("bad line\n")
    with pytest.raises(ValueError, match="test,Outcome"):
        gate.load(base)


def test_reproducer_is_extracted_from_a_hypothesis_failure():
    text = (
        "E   AssertionError: x\nFalsifying example: test_f(\n    n=3,\n)\n\nYou can reproduce this example by temporarily adding @reproduce_failure('6.1', b'AXic') as a decorator"
    )
    r = model.reproducer(text)
    assert r["example"].startswith("Falsifying example: test_f(") and "n=3" in r["example"]
    assert r["reproduce"] == "@reproduce_failure('6.1', b'AXic')"


def _run_doubles(tmp_path, *extra):
    state = tmp_path / "state"
    state.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DOUBLES_STATE=str(state), PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        "-n",
        "1",
        "suites/selftest/doubles/driver_doubles.py",
        "--override-ini",
        "collect_ignore_glob=",
        "-o",
        "python_files=driver_doubles.py",
        f"--report-dir={tmp_path / 'out'}",
        "--vk-test-timeout",
        "4",
        *extra,
    ]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=240)
    return proc, time.monotonic() - started, json.loads((tmp_path / "out" / "results.json").read_text())


@pytest.fixture(scope="module")
def doubles_run(tmp_path_factory):
    return _run_doubles(tmp_path_factory.mktemp("doubles"), "-k", "not teardown_crash")


def test_a_crash_while_devices_are_destroyed_is_reported_against_the_last_test(tmp_path):
    proc, _, doc = _run_doubles(tmp_path, "-k", "passing or teardown_crash")
    last = next(t for t in doc["tests"] if t["nodeid"].endswith("test_zz_last_test_before_a_teardown_crash"))
    assert last["outcome"] == "Crash" and last["phase"] == "session teardown" and "torn down" in last["details"], proc.stdout[-3000:]


def test_crash_and_hang_become_crash_and_timeout_and_the_run_goes_on(doubles_run):
    proc, took, doc = doubles_run
    outcomes = {t["nodeid"].rsplit("::", 1)[1]: t["outcome"] for t in doc["tests"]}
    assert outcomes == {
        "test_passing_neighbour": "Pass",
        "test_driver_call_that_crashes": "Crash",
        "test_driver_call_that_hangs": "Timeout",
        "test_flaky_driver": "Flake",
        "test_failing_driver": "Fail",
    }, proc.stdout[-3000:]
    assert took < 200, f"the run took {took:.0f} s"
    assert proc.returncode == 1
    assert doc["verdict"] == "Fail"


def test_a_crash_names_the_call_that_crashed(doubles_run):
    _, _, doc = doubles_run
    crash = next(t for t in doc["tests"] if t["nodeid"].endswith("test_driver_call_that_crashes"))
    last = crash["crash_input"]["last_call"]
    assert last.startswith("MapCall(entry='vkMapMemory2KHR'") and "offset=64, size=128" in last, crash["crash_input"]
    assert crash["crash_input"]["rerun_exit"] != 0


def test_the_failing_double_was_retried_and_the_flake_recorded(doubles_run):
    _, _, doc = doubles_run
    by = {t["nodeid"].rsplit("::", 1)[1]: t for t in doc["tests"]}
    assert by["test_failing_driver"]["attempts"] == ["Fail", "Fail", "Fail"]
    assert by["test_flaky_driver"]["attempts"] == ["Fail", "Pass"]


def test_baseline_round_trip_makes_the_gate_pass(tmp_path):
    base = tmp_path / "baseline.txt"
    proc, _, _ = _run_doubles(tmp_path, "-k", "not teardown_crash", f"--baseline={base}", "--update-baseline")
    assert "baseline written" in proc.stdout
    text = base.read_text()
    assert "test_driver_call_that_crashes,Crash" in text and "test_failing_driver,Fail" in text and "test_flaky_driver,Flake" in text
    proc, _, _ = _run_doubles(tmp_path / "again", "-k", "not teardown_crash", f"--baseline={base}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 new failures" in proc.stdout


def test_merge_puts_devices_side_by_side_and_diff_finds_regressions_and_fixes(tmp_path):
    from vkmap_cts.reports.__main__ import diff, main, merge

    a = _doc([_t("t1", "Pass"), _t("t2", "Fail"), _t("t3", "Pass")], {"deviceName": "GPU A", "driverName": "d", "driverInfo": "1", "apiVersion": "1.4", "deviceUUID": "aa"})
    b = _doc([_t("t1", "Crash"), _t("t2", "Pass"), _t("t4", "Pass")], {"deviceName": "GPU B", "driverName": "d", "driverInfo": "2", "apiVersion": "1.4", "deviceUUID": "bb"})
    merged = merge([a, b])
    jsonschema.validate(merged, SCHEMA)
    assert [d["deviceName"] for d in merged["devices"]] == ["GPU A", "GPU B"]
    assert {r["nodeid"]: r["outcomes"] for r in merged["sideBySide"]}["t1"] == {"GPU A [aa] / d 1": "Pass", "GPU B [bb] / d 2": "Crash"}
    twins = merge([_doc([_t("t", "Pass")], dict(a["driver"], deviceUUID="11" * 16)), _doc([_t("t", "Fail")], dict(a["driver"], deviceUUID="22" * 16))])
    assert len(twins["sideBySide"][0]["outcomes"]) == 2, "two GPUs of one model keep a column each"
    assert merged["verdict"] == "Fail"
    result = diff(a, b)
    assert result["regressed"] == [("t1", "Pass -> Crash")] and result["fixed"] == [("t2", "Fail -> Pass")]
    assert result["added"] == [("t4", "Pass")] and result["removed"] == [("t3", "Pass")]
    for name, doc in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(doc))
    assert main(["merge", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "m")]) == 0
    page = (tmp_path / "m" / "report.html").read_text()
    assert "Side by side (2 runs)" in page and "GPU A" in page and "GPU B" in page
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 1  # a regression: non-zero


def test_crash_rerun_forwards_driver_options_in_both_forms():
    from vkmap_cts.reports.plugin import _forwarded

    args = ["suites", "-n", "8", "--vk-device", "1", "--vk-icd=/x.json", "--hypothesis-profile", "ci", "-p", "no:benchmark", "--baseline=b.txt"]
    assert _forwarded(args) == ["--vk-device", "1", "--vk-icd=/x.json", "--hypothesis-profile", "ci", "-p", "no:benchmark"]


def test_reproducer_is_extracted_from_pytest_prefixed_lines():
    text = (
        "E       Falsifying example: test_p(\nE           entry='vkMapMemory2',\nE           pages=1,\nE       )\nE       Draw 1 (memory type): MemoryType(index=4)\n"
        "E       You can reproduce this test case by temporarily adding @reproduce_failure('6.168.3', b'AEEBQQBBAg==') as a decorator"
    )
    r = model.reproducer(text)
    assert "entry='vkMapMemory2'" in r["example"] and r["example"].endswith(")")
    assert r["reproduce"] == "@reproduce_failure('6.168.3', b'AEEBQQBBAg==')"
