"""Self-tests of the reports: schema, escaping, gate, flakes, crash and hang isolation, merge and diff."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from vkmap_cts.reports import gate, html, model, render

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "results.schema.json").read_text())


def _doc(tests, driver=None):
    return {
        "schemaVersion": 1,
        "run": {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h"},
        "driver": driver
        or {"deviceName": "GPU", "driverName": "d", "driverInfo": "i", "apiVersion": "1.4.0", "deviceUUID": "00" * 16},
        **model.summarise(tests),
    }


def _t(nodeid, outcome, **kw):
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "duration": 0.1,
        "covers": [],
        "violates": [],
        "vkresults": {},
        "details": None,
        **kw,
    }


def test_results_of_a_real_run_validate_against_the_schema(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "suites/operation/test_map_memory2.py",
            f"--report-dir={tmp_path}",
        ],
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
    evil = {
        "deviceName": "<script>alert(1)</script>",
        "driverName": "<img src=x onerror=alert(2)>",
        "driverInfo": "a|b`c",
        "apiVersion": "1",
        "deviceUUID": "u",
    }
    doc = _doc([_t("t<script>", "Fail", details="<script>x</script>")], evil)
    page = html.report(doc)
    assert page.count("<script") == 1 and "<img" not in page  # the page's own filter script, and nothing else
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = render.summary_md(doc)
    assert "<script" not in md and "<img" not in md
    assert "<script" not in render.junit(doc).replace("&lt;script", "")


def test_deqp_csv_form():
    assert render.deqp_csv([_t("suites/a.py::b[x,y]", "Fail")]) == "suites/a.py::b[x;y],Fail,0.100\n"


def test_the_gate_compares_outcomes_exactly_as_deqp_runner(tmp_path):
    """Each result against its baseline line gets deqp-runner's status: the same failure is ExpectedFail, a better
    result an UnexpectedImprovement, any other failure itself; only Fail, Crash, Timeout, Missing, InternalError and
    (unless allowed) UnexpectedImprovement fail the gate.  A bad line is a ValueError naming it."""
    base = tmp_path / "baseline.txt"
    base.write_text("# comment\nknown,Fail\ncrashed,Fail\nfixed,Fail\nbetter,Crash\nflaky,Flake\ngone,Fail\n")
    expected = gate.load(base)
    assert expected["crashed"] == "Fail" and expected["crashed"].where == f"{base}:3"
    tests = [
        _t("known", "Fail"),
        _t("crashed", "Crash"),
        _t("fixed", "Pass"),
        _t("better", "Fail"),
        _t("new", "Timeout"),
        _t("flaky", "Fail"),
        _t("gone", "Skip", notRun=True),
        _t("ok", "Pass"),
    ]
    g = gate.judged(tests, expected, str(base))
    assert {t["nodeid"]: gate.status_of(t) for t in tests} == {
        "known": "ExpectedFail",
        "crashed": "Crash",
        "fixed": "UnexpectedImprovement(Pass)",
        "better": "UnexpectedImprovement(Fail)",
        "new": "Timeout",
        "flaky": "KnownFlake",
        "gone": "Missing",
        "ok": "Pass",
    }
    assert g["failures"] == ["crashed", "fixed", "better", "new", "gone"] and (g["verdict"], g["exitStatus"]) == (
        "Fail",
        1,
    )
    assert (g["expected"], g["improvements"], g["missing"], g["flakes"]) == (
        ["known"],
        ["fixed", "better"],
        ["gone"],
        ["flaky"],
    )
    said = "\n".join(gate.lines(g, tests))
    assert f"Crash: crashed (expected Fail, got Crash ({base}:3))" in said
    assert f"UnexpectedImprovement(Pass): fixed (expected Fail, got Pass ({base}:4): delete that line)" in said
    assert f"UnexpectedImprovement(Fail): better (expected Crash, got Fail ({base}:5): change that line" in said
    assert ": known " not in said and ": flaky " not in said  # the known is quiet
    allowed = gate.judged(tests[3:4], expected, str(base), allow_improvements=True)
    assert (allowed["verdict"], allowed["improvements"]) == ("Pass", ["better"])
    for bad in ("bad line\n", "t,ExpectedFail\n"):
        base.write_text(bad)
        with pytest.raises(ValueError, match="test,Outcome"):
            gate.load(base)


def test_reproducer_is_extracted_from_a_hypothesis_failure():
    text = (
        "E   AssertionError: x\nFalsifying example: test_f(\n    n=3,\n)\n\nYou can reproduce this example by "
        "temporarily adding @reproduce_failure('6.1', b'AXic') as a decorator"
    )
    r = model.reproducer(text)
    assert r["example"].startswith("Falsifying example: test_f(") and "n=3" in r["example"]
    assert r["reproduce"] == "@reproduce_failure('6.1', b'AXic')"


def _run_doubles(tmp_path, *extra):
    state = tmp_path / "state"
    state.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DOUBLES_STATE=str(state),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
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
    return _run_doubles(
        tmp_path_factory.mktemp("doubles"),
        "-k",
        "not teardown_crash and not misaligned and not shrinks and not isolated and not fixture_setup",
    )


def test_a_crash_while_devices_are_destroyed_is_reported_against_the_last_test(tmp_path):
    proc, _, doc = _run_doubles(tmp_path, "-k", "passing or teardown_crash")
    last = next(t for t in doc["tests"] if t["nodeid"].endswith("test_zz_last_test_before_a_teardown_crash"))
    assert last["outcome"] == "Crash" and last["phase"] == "session teardown" and "torn down" in last["details"], (
        proc.stdout[-3000:]
    )


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
    proc, _, _ = _run_doubles(
        tmp_path,
        "-k",
        "not teardown_crash and not shrinks and not isolated and not fixture_setup",
        f"--baseline={base}",
        "--update-baseline",
    )
    assert "baseline written" in proc.stdout
    text = base.read_text()
    assert (
        "test_driver_call_that_crashes,Crash" in text
        and "test_failing_driver,Fail" in text
        and "test_flaky_driver,Flake" in text
    )
    proc, _, _ = _run_doubles(
        tmp_path / "again",
        "-k",
        "not teardown_crash and not shrinks and not isolated and not fixture_setup",
        f"--baseline={base}",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 failing the gate" in proc.stdout


def _label(doc):
    from vkmap_cts.reports.__main__ import label

    return (label(doc), doc)


def test_merge_puts_devices_side_by_side(tmp_path):
    """Two devices merge into two columns, tests named by their run, unique in every output; two GPUs of one model stay
    apart."""
    from vkmap_cts.reports.__main__ import merge

    a = _doc(
        [_t("t1", "Pass"), _t("t2", "Fail"), _t("t3", "Pass")],
        {"deviceName": "GPU A", "driverName": "d", "driverInfo": "1", "apiVersion": "1.4", "deviceUUID": "aa"},
    )
    b = _doc(
        [_t("t1", "Crash"), _t("t2", "Pass"), _t("t4", "Pass")],
        {"deviceName": "GPU B", "driverName": "d", "driverInfo": "2", "apiVersion": "1.4", "deviceUUID": "bb"},
    )
    merged = merge([_label(a), _label(b)])
    jsonschema.validate(merged, SCHEMA)
    assert [d["deviceName"] for d in merged["devices"]] == ["GPU A", "GPU B"]
    assert {r["nodeid"]: r["outcomes"] for r in merged["sideBySide"]}["t1"] == {
        "GPU A [aa] / d 1": "Pass",
        "GPU B [bb] / d 2": "Crash",
    }
    names = [t["nodeid"] for t in merged["tests"]]
    assert len(names) == len(set(names)) == 6
    assert len(set(render.deqp_csv(merged["tests"]).splitlines())) == 6
    twins = merge(
        [
            _label(_doc([_t("t", "Pass")], dict(a["driver"], deviceUUID="11" * 16))),
            _label(_doc([_t("t", "Fail")], dict(a["driver"], deviceUUID="22" * 16))),
        ]
    )
    assert len(twins["sideBySide"][0]["outcomes"]) == 2, "two GPUs of one model keep a column each"
    assert merged["verdict"] == "Fail"


def test_merge_keeps_two_runs_on_one_device_apart():
    """Two runs of one driver on one device (two builds): a column each, by the labels given or numbered, and every
    difference shows."""
    from vkmap_cts.reports.__main__ import merge

    old = _doc([_t("t1", "Pass"), _t("t2", "Pass")])
    new = _doc([_t("t1", "Fail"), _t("t2", "Pass")])
    given = merge([("build-41", old), ("build-42", new)])
    assert [r["label"] for r in given["runs"]] == ["build-41", "build-42"]
    assert given["sideBySide"][0] == {"nodeid": "t1", "outcomes": {"build-41": "Pass", "build-42": "Fail"}}
    numbered = merge([_label(old), _label(new)])
    first = numbered["runs"][0]["label"]
    assert [r["label"] for r in numbered["runs"]] == [first, f"{first} #2"]
    assert sum(len(set(r["outcomes"].values())) > 1 for r in numbered["sideBySide"]) == 1


def test_merged_shards_are_the_whole_run():
    """Shards of one run (disjoint tests, one label) merge into one run: the same tests, counts and verdict, names
    unprefixed."""
    from vkmap_cts.reports.__main__ import merge

    whole = [_t("a", "Pass"), _t("b", "Fail"), _t("c", "NotSupported"), _t("d", "Pass")]
    merged = merge([_label(_doc(whole[0::2])), _label(_doc(whole[1::2]))])
    jsonschema.validate(merged, SCHEMA)
    assert len(merged["runs"]) == 1 and merged["runs"][0]["shards"] == 2
    assert merged["counts"] == model.counts(whole) and merged["verdict"] == model.verdict(whole) == "Fail"
    assert sorted(t["nodeid"] for t in merged["tests"]) == ["a", "b", "c", "d"] and not merged["sideBySide"]


def test_diff_exits_nonzero_on_every_kind_of_regression_unless_allowed(tmp_path):
    """A new failure of an old test, a failure of a new test and Pass falling to NotSupported each fail the diff;
    --allow turns a kind off."""
    from vkmap_cts.reports.__main__ import diff, main

    old = _doc([_t("t1", "Pass"), _t("t2", "Fail"), _t("t3", "Pass"), _t("t5", "Pass")])
    new = _doc([_t("t1", "Crash"), _t("t2", "Pass"), _t("t4", "Timeout"), _t("t5", "NotSupported"), _t("t6", "Pass")])
    result = diff(old, new)
    assert result["fail"] == [("t1", "Pass -> Crash")] and result["fixed"] == [("t2", "Fail -> Pass")]
    assert result["new-fail"] == [("t4", "new: Timeout")] and result["not-supported"] == [
        ("t5", "Pass -> NotSupported")
    ]
    assert result["added"] == [("t6", "new: Pass")] and result["removed"] == [("t3", "Pass")]
    cases = {
        "fail": (_doc([_t("t", "Pass")]), _doc([_t("t", "Fail")])),
        "new-fail": (_doc([]), _doc([_t("t", "Crash")])),
        "not-supported": (_doc([_t("t", "Pass")]), _doc([_t("t", "NotSupported")])),
    }
    for kind, (a, b) in cases.items():
        pa, pb = tmp_path / f"{kind}-old.json", tmp_path / f"{kind}-new.json"
        pa.write_text(json.dumps(a))
        pb.write_text(json.dumps(b))
        assert main(["diff", str(pa), str(pb)]) == 1, kind
        assert main(["diff", str(pa), str(pb), "--allow", kind]) == 0, kind
    assert main(["diff", str(pa), str(pa)]) == 0


def test_merge_and_diff_of_unreadable_input_is_one_line_and_exit_4(tmp_path, capsys):
    """A file that is not JSON, or not a results.json, or a missing run: one line, exit 4, no traceback."""
    from vkmap_cts.reports.__main__ import main

    (tmp_path / "junk.json").write_text("not json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    for args in (
        ["merge", str(tmp_path / "junk.json")],
        ["merge", str(tmp_path / "other.json")],
        ["diff", str(tmp_path / "none"), str(tmp_path / "junk.json")],
    ):
        assert main(args) == 4, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("vkmap-cts: error: "), err


def test_merge_writes_a_side_by_side_report(tmp_path):
    """merge on report directories writes results.json and a report.html with both runs side by side."""
    from vkmap_cts.reports.__main__ import main

    for name, outcome in (("a", "Pass"), ("b", "Fail")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(_doc([_t("t1", outcome)])))
    assert main(["merge", f"{tmp_path / 'a'}=old", f"{tmp_path / 'b'}=new", "-o", str(tmp_path / "m")]) == 0
    page = (tmp_path / "m" / "report.html").read_text()
    assert "Side by side (2 runs)" in page and ">old<" in page and ">new<" in page


def test_crash_rerun_forwards_driver_options_in_both_forms():
    from vkmap_cts.fixtures.plugins.child import forwarded

    args = [
        "suites",
        "-n",
        "8",
        "--vk-device",
        "1",
        "--vk-icd=/x.json",
        "--hypothesis-profile",
        "ci",
        "-p",
        "no:benchmark",
        "--baseline=b.txt",
    ]
    assert forwarded(args) == [
        "--vk-device",
        "1",
        "--vk-icd=/x.json",
        "--hypothesis-profile",
        "ci",
        "-p",
        "no:benchmark",
    ]


def test_reproducer_is_extracted_from_pytest_prefixed_lines():
    text = (
        "E       Falsifying example: test_p(\nE           entry='vkMapMemory2',\nE           pages=1,\nE       )\nE  "
        "     Draw 1 (memory type): MemoryType(index=4)\n"
        "E       You can reproduce this test case by temporarily adding @reproduce_failure('6.168.3', "
        "b'AEEBQQBBAg==') as a decorator"
    )
    r = model.reproducer(text)
    assert "entry='vkMapMemory2'" in r["example"] and r["example"].endswith(")")
    assert r["reproduce"] == "@reproduce_failure('6.168.3', b'AEEBQQBBAg==')"


def test_deqp_runner_skips_and_flakes_files(tmp_path):
    """--skips: a matching test is not run and is a Skip; --flakes: a matching failure is a Flake; the gate passes on
    neither."""
    (tmp_path / "skips.txt").write_text("# deqp-runner skips\n\ntest_driver_call_that_hangs$\n")
    (tmp_path / "flakes.txt").write_text("test_failing_driver  # known to flake\n")
    proc, _, doc = _run_doubles(
        tmp_path,
        "-k",
        "hangs or failing or neighbour",
        f"--skips={tmp_path / 'skips.txt'}",
        f"--flakes={tmp_path / 'flakes.txt'}",
    )
    by = {t["nodeid"].rsplit("::", 1)[1]: t for t in doc["tests"]}
    assert (
        by["test_driver_call_that_hangs"]["outcome"] == "Skip"
        and "skips.txt:3" in by["test_driver_call_that_hangs"]["details"]
    )
    assert by["test_failing_driver"]["outcome"] == "Flake" and "flakes.txt:1" in by["test_failing_driver"]["details"]
    assert by["test_passing_neighbour"]["outcome"] == "Pass"
    assert doc["verdict"] == "Pass" and proc.returncode == 0, proc.stdout[-3000:]


def test_progress_line_estimates_the_time_left():
    """The progress line: tests done of all, time spent, and the time left (or that it is not estimated yet)."""
    from vkmap_cts.reports.progress import line

    assert line(120, 480, 90.0, 270.0) == "vkmap-cts: progress 120/480 tests in 1m30s, about 4m30s left"
    assert line(1, 3, 3700.0, 7400.0) == "vkmap-cts: progress 1/3 tests in 1h01m, about 2h03m left"
    assert line(1, 3, 25.0, None).startswith("vkmap-cts: progress 1/3 tests in 0m25s; the time left is estimated once")


def _two_workers(durations: dict[str, float]) -> tuple[dict[str, float], float]:
    """When each test ends on two workers that take the tests in order, and when the run ends."""
    free, ended = [0.0, 0.0], {}
    for nodeid, took in durations.items():
        worker = free.index(min(free))
        free[worker] += took
        ended[nodeid] = free[worker]
    return ended, max(free)


def test_the_first_estimate_weighs_each_test_by_its_last_duration():
    """A run whose slow tests come first (the heavy ones are handed out first): at a quarter of its time, the mean time
    per test done, times the tests to go, says several times the time left; weighed by the last run's durations (off
    by up to half for each test), the estimate is within a third of it; without a last run it gives none yet."""
    import random

    from vkmap_cts.reports.progress import time_left

    durations = {f"suites/t.py::test_{i:03d}": 0.5 if i < 30 else 0.02 for i in range(520)}
    ended, end = _two_workers(durations)
    now = end / 4
    done = {i for i, t in ended.items() if t <= now}
    ids, left = list(durations), end - now
    assert now / len(done) * (len(ids) - len(done)) > 3 * left, "the mean-time estimate the line gave before"
    rng = random.Random(31)
    last = {i: t * rng.uniform(0.5, 1.5) for i, t in durations.items()}
    assert abs(time_left(done, ids, now, last) - left) < left / 3
    assert time_left(done, ids, now, {}) is None
    late = {i for i, t in ended.items() if t <= end * 0.8}
    assert time_left(late, ids, end * 0.8, {}) is not None, "without a last run, once half the tests have run"


def test_a_run_keeps_its_test_durations_for_the_next_runs_estimate(tmp_path):
    """The durations of a run's tests go into pytest's cache, where the next run's progress line weighs by them."""
    from vkmap_cts.reports.progress import CACHE_KEY

    cache = tmp_path / "cache"
    cmd = [sys.executable, "-m", "pytest", "-q", "-o", f"cache_dir={cache}", f"--report-dir={tmp_path / 'out'}"]
    proc = subprocess.run(
        [*cmd, "suites/validation/test_vkMapMemory2.py", "-k", "null"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    kept = json.loads((cache / "v" / CACHE_KEY).read_text())
    assert len(kept) == 4 and all(v > 0 for v in kept.values()), kept


def test_last_failed_reruns_only_the_failures(tmp_path):
    """--lf after a red run runs only its failures (the cache provider is on; its folder is the ignored
    .pytest_cache)."""
    cache = f"cache_dir={tmp_path / 'cache'}"
    proc, _, doc = _run_doubles(tmp_path / "first", "-p", "cacheprovider", "-o", cache, "-k", "failing or neighbour")
    assert {t["outcome"] for t in doc["tests"]} == {"Pass", "Fail"}
    proc, _, doc = _run_doubles(
        tmp_path / "again", "-p", "cacheprovider", "-o", cache, "-k", "failing or neighbour", "--lf"
    )
    assert [t["nodeid"].rsplit("::", 1)[1] for t in doc["tests"]] == ["test_failing_driver"], proc.stdout[-2000:]


def test_a_failure_shows_the_sentence_it_enforces_everywhere(tmp_path):
    """A failing check is named by its rule and the specification's sentence in the terminal, results.json, JUnit,
    summary.md and report.html."""
    proc, _, doc = _run_doubles(tmp_path, "-k", "misaligned", "--flake-reruns=0")
    sentence = (
        "The value of the returned pointer minus offset must be aligned to "
        "VkPhysicalDeviceLimits::minMemoryMapAlignment."
    )
    assert "specification" in proc.stdout and sentence in proc.stdout, proc.stdout[-3000:]
    (t,) = doc["tests"]
    assert t["outcome"] == "Fail" and t["rule"] == "GUARANTEE-map-alignment" and t["sentence"] == sentence
    assert t["message"].startswith("GUARANTEE-map-alignment: ") and "minMemoryMapAlignment" in t["message"]
    out = tmp_path / "out"
    assert 'message="Fail: GUARANTEE-map-alignment: ' in (out / "junit.xml").read_text()
    assert sentence in (out / "summary.md").read_text()
    page = (out / "report.html").read_text()
    assert f"<blockquote>{sentence}" in page and "traceback</summary>" in page
    assert '<p class="reason">Fail: GUARANTEE-map-alignment: ' in page


def test_every_rule_quotes_its_sentence():
    """Every catalogued rule and every guarantee has the sentence it enforces and its source; one without is caught."""
    from vkmap_cts.fixtures.rules import catalogue
    from vkmap_cts.fixtures.rules.guarantees import GUARANTEES, Guarantee

    assert catalogue.rules_without_sentence(catalogue.entries(), GUARANTEES) == []
    bad = [{"vuid": "VUID-X-y-1", "sentence": "", "source": "s"}]
    assert catalogue.rules_without_sentence(bad, {"GUARANTEE-g": Guarantee("s", "", "src")}) == [
        "VUID-X-y-1",
        "GUARANTEE-g",
    ]
    assert all(" must " in e["sentence"] or e["sentence"].startswith("The sType") for e in catalogue.entries()), (
        "a valid-usage sentence says must"
    )


def test_every_guarantee_says_which_memory_it_holds_for():
    """A guarantee about bytes holds on a type without HOST_COHERENT only for what was flushed (or invalidated): each
    says so, and each other one says it holds on every HOST_VISIBLE type (or is the device's)."""
    from vkmap_cts.fixtures.rules.guarantees import EVERY_TYPE, FLUSHED, GUARANTEES

    for name, g in GUARANTEES.items():
        assert g.holds_for == EVERY_TYPE or "HOST_COHERENT" in g.holds_for or g.holds_for.startswith("every device"), (
            name
        )
    # The model's own guarantees judge every type through it; a declined reservation keeps the same mapping, whose bytes
    # any type shows.
    own = {"GUARANTEE-host-view-model", "GUARANTEE-stateful-model", "GUARANTEE-unmap-reserve"}
    bytes_guarantees = [n for n, g in GUARANTEES.items() if "bytes" in g.summary.lower() and n not in own]
    assert bytes_guarantees and all(GUARANTEES[n].holds_for == FLUSHED for n in bytes_guarantees), bytes_guarantees


def _run_hanging(tmp_path, *args):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(ROOT), str(ROOT / "suites" / "selftest" / "doubles"), os.environ.get("PYTHONPATH")])
        ),
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        "-p",
        "hanging_driver",
    ]
    started = time.monotonic()
    proc = subprocess.run(
        [*cmd, *args, f"--report-dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600
    )
    return proc, time.monotonic() - started, json.loads((tmp_path / "results.json").read_text())


def test_a_driver_that_hangs_in_every_call_gets_a_complete_report_fast(tmp_path):
    """ci/conformance's defaults on a driver whose every map hangs: the hung calls end as Timeouts, the run stops at the
    hang limit, and the report lists every test (those not reached as not run), well within 5 minutes."""
    proc, took, doc = _run_hanging(
        tmp_path, "suites", "--ignore=suites/selftest", "-n", "2", "--dist", "worksteal", "--hypothesis-profile", "ci"
    )
    counts = doc["counts"]
    assert counts.get("Timeout", 0) >= 1 and doc["verdict"] == "Fail" and proc.returncode == 1, proc.stdout[-3000:]
    assert doc["run"]["scope"]["collected"] == len(doc["tests"]), "every collected test is in the report"
    timeout = next(t for t in doc["tests"] if t["outcome"] == "Timeout")
    assert "did not return within --vk-call-timeout 10 s" in timeout["details"], timeout["details"][:500]
    assert any(t["outcome"] == "Skip" and "--vk-hang-limit" in (t["details"] or "") for t in doc["tests"])
    assert "vkmap-cts: verdict Fail" in proc.stdout
    s = doc["run"]["scope"]  # how it ended, in the scope and the verdict line (test_endings.py: the other endings)
    assert s["ending"] == "hang-limit" and s["ran"] < s["selected"] and "--vk-hang-limit 2" in s["stoppedBy"], s
    assert f"stopped by {s['stoppedBy']} after {s['ran']} of {s['selected']} tests" in proc.stdout
    assert took < 300, f"{took:.0f} s"


def test_a_hang_without_xdist_still_writes_the_complete_report(tmp_path):
    """Without -n the watchdog itself writes the report: the hung test a Timeout, the rest not run, and the verdict line
    printed."""
    (tmp_path / "results.json").write_text("an older run's report")
    proc, took, doc = _run_hanging(tmp_path, "suites/validation/test_vkMapMemory2.py", "--vk-call-timeout", "3")
    assert proc.returncode == 1 and doc["verdict"] == "Fail", proc.stdout[-3000:]
    outcomes = {t["outcome"] for t in doc["tests"]}
    assert "Timeout" in outcomes and len(doc["tests"]) == doc["run"]["scope"]["collected"] == 12
    assert "vkmap-cts: partial run" in proc.stdout and took < 60
    s = doc["run"]["scope"]
    assert s["ending"] == "hang" and s["ran"] < s["selected"] and f"after {s['ran']} of 12 tests" in proc.stdout, s


def test_a_crash_while_hypothesis_shrinks_is_a_crash_and_the_run_goes_on(tmp_path):
    """A driver that segfaults while hypothesis shrinks a failure: that test is a Crash, the others run, no
    INTERNALERROR, the report is complete."""
    proc, _, doc = _run_doubles(tmp_path, "-k", "shrinks or neighbour or failing_driver", "--flake-reruns=0")
    outcomes = {t["nodeid"].rsplit("::", 1)[1]: t["outcome"] for t in doc["tests"]}
    assert outcomes == {
        "test_driver_that_crashes_while_hypothesis_shrinks": "Crash",
        "test_failing_driver": "Fail",
        "test_passing_neighbour": "Pass",
    }
    assert "INTERNALERROR" not in proc.stdout + proc.stderr and proc.returncode == 1
    assert all(
        (tmp_path / "out" / name).is_file()
        for name in ("results.json", "junit.xml", "results.csv", "summary.md", "report.html")
    )
    assert "vkmap-cts: partial run" in proc.stdout


def test_a_crash_at_teardown_names_the_earlier_failure_in_that_process(tmp_path):
    """A worker that crashes while its devices are destroyed, after a test of its failed: the report names that
    failure."""
    proc, _, doc = _run_doubles(tmp_path, "-k", "failing_driver or teardown_crash", "--flake-reruns=0")
    last = next(t for t in doc["tests"] if t["nodeid"].endswith("test_zz_last_test_before_a_teardown_crash"))
    assert (
        last["outcome"] == "Crash"
        and "Earlier in the same process: suites/selftest/doubles/driver_doubles.py::test_failing_driver (Fail)"
        in last["details"]
    ), last


def test_an_isolated_test_breaks_only_its_own_process(tmp_path):
    """An isolated test that crashes is a Crash, one that fails a Fail with its own message, and the test after them
    passes in the same worker."""
    proc, _, doc = _run_doubles(tmp_path, "-k", "isolated", "--flake-reruns=0")
    by = {t["nodeid"].rsplit("::", 1)[1]: t for t in doc["tests"]}
    assert by["test_isolated_double_that_crashes_its_process"]["outcome"] == "Crash", proc.stdout[-3000:]
    assert by["test_isolated_double_that_fails"]["outcome"] == "Fail"
    assert (
        by["test_isolated_double_that_fails"]["message"] == "GUARANTEE-map-success: a failure inside the isolated child"
    )
    assert by["test_zzz_after_the_isolated_ones"]["outcome"] == "Pass"
    assert len({t.get("worker") for t in doc["tests"]}) == 1, "all three ran in one worker, which the crash did not end"


def test_a_crash_in_fixture_set_up_is_a_crash_and_the_run_goes_on(tmp_path):
    """A driver that segfaults while a fixture sets up its objects: that test is a Crash, the others run, no
    INTERNALERROR."""
    proc, _, doc = _run_doubles(tmp_path, "-k", "fixture_setup or neighbour", "--flake-reruns=0")
    outcomes = {t["nodeid"].rsplit("::", 1)[1]: t["outcome"] for t in doc["tests"]}
    assert outcomes == {"test_driver_that_crashes_in_fixture_setup": "Crash", "test_passing_neighbour": "Pass"}, (
        proc.stdout[-2000:]
    )
    assert "INTERNALERROR" not in proc.stdout + proc.stderr and proc.returncode == 1


def test_a_bug_in_a_step_after_the_tests_still_writes_the_results(tmp_path):
    """A step of the session's end (timeouts, teardown crashes, crash re-runs) that raises is named as a
    bug of the suite, and results.json is written all the same."""
    (tmp_path / "break_a_step.py").write_text(
        "import vkmap_cts.fixtures.plugins.watchdog as plugin\n\n\n"
        "def _classify_timeouts(config, writer):\n    raise RuntimeError('boom')\n\n\n"
        "plugin.classify_timeouts = _classify_timeouts\n"
    )
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-p",
        "break_a_step",
        f"--report-dir={out}",
        "suites/validation/test_vkMapMemory2.py",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "a bug of the suite in classify_timeouts (RuntimeError: boom)" in proc.stderr, proc.stderr[-2000:]
    doc = json.loads((out / "results.json").read_text())
    assert doc["tests"] and all(t["outcome"] == "Pass" for t in doc["tests"])


# --- the first day: a baseline from the run itself, written wherever it is asked for ---------------------------------


def test_a_runs_own_failures_csv_is_read_as_a_baseline(tmp_path):
    """failures.csv (deqp-runner's test,status,duration, a test ID's commas written ';') reads as the baseline of
    the failures it lists, each under its test ID, as deqp-runner reads its first run's failures.csv."""
    from vkmap_cts.reports import test_ids

    comma = next(i for i in sorted(test_ids.read_list()) if "," in i)
    other = "suites/validation/test_vkMapMemory2.py::test_x"
    (tmp_path / "failures.csv").write_text(render.deqp_csv([_t(comma, "Fail", duration=0.25), _t(other, "Crash")]))
    assert gate.load(tmp_path / "failures.csv") == {comma: "Fail", other: "Crash"}


def test_a_run_gated_on_the_failures_csv_of_the_run_before_passes(tmp_path):
    """deqp-runner's first-day recipe: a run's failures.csv, given as --baseline to the next run, gates it: Pass."""
    picked = ("-k", "passing_neighbour or test_failing_driver", "--flake-reruns=0")
    proc, _, first = _run_doubles(tmp_path / "first", *picked)
    assert first["verdict"] == "Fail" and proc.returncode == 1, proc.stdout[-2000:]
    failures = tmp_path / "first" / "out" / "failures.csv"
    proc, _, doc = _run_doubles(tmp_path / "second", *picked, f"--baseline={failures}")
    assert proc.returncode == 0 and doc["gate"]["verdict"] == "Pass", proc.stdout[-3000:] + proc.stderr[-2000:]


def _update_run(tmp_path, baseline, *extra: str, env=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    cmd += ["suites/validation/test_vkMapMemory2.py", "-k", "null and KHR", f"--baseline={baseline}"]
    cmd += ["--update-baseline", f"--report-dir={tmp_path / 'out'}"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_update_baseline_makes_the_folder_it_is_written_in(tmp_path):
    """--update-baseline into a folder that is not there yet (a fresh clone's baselines/): the folder is made, the
    baseline and every report written, and the run gated against what it wrote."""
    baseline = tmp_path / "baselines" / "my-driver.txt"
    proc = _update_run(tmp_path, baseline)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert baseline.read_text().startswith("# vkmap-cts baseline for ")
    assert f"vkmap-cts: baseline written to {baseline}" in proc.stdout
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["gate"]["baseline"] == str(baseline) and (tmp_path / "out" / "report.html").is_file()


def test_a_baseline_that_cannot_be_written_at_the_end_still_leaves_every_report(tmp_path):
    """The baseline's place taken while the run ran (here a folder made there by a test's plugin): one line, exit 4, and
    the reports of the run written all the same."""
    baseline = tmp_path / "fails.txt"
    (tmp_path / "block_baseline.py").write_text(
        "import os\n\n\ndef pytest_runtest_call(item):\n    os.makedirs(os.environ['BLOCKED'], exist_ok=True)\n"
    )
    env = dict(os.environ, BLOCKED=str(baseline), PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = _update_run(tmp_path, baseline, "-p", "block_baseline", env=env)
    assert proc.returncode == 4, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"vkmap-cts: error: --update-baseline: {baseline} not written (Is a directory)" in proc.stdout
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["run"]["exitStatus"] == 4 and (tmp_path / "out" / "report.html").is_file()


def test_the_reports_help_gives_each_command_its_own_lines():
    """`python -m vkmap_cts.reports --help`: each command's usage on a line of its own, what it does under it."""
    proc = subprocess.run(
        [sys.executable, "-m", "vkmap_cts.reports", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    usage = [line.split() for line in proc.stdout.splitlines() if line.startswith("    python -m vkmap_cts.reports ")]
    assert [u[3] for u in usage] == ["merge", "diff", "ids"], proc.stdout
    assert all(" ".join(u).count("vkmap_cts.reports") == 1 for u in usage)


def test_every_report_folder_is_ignored_by_git():
    """reports/<any name>/ (a shard's, a merge's, ci/matrix's) is ignored by git; the page's template is not."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout, or the test host lacks git")
    ignored = ["reports/shard-1/results.json", "reports/lavapipe/report.html", "reports/latest/summary.md"]
    kept = ["reports/templates/report.html.j2", "reports/results.py", "reports/test-ids.txt"]
    for path in ignored + kept:
        proc = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, timeout=60)
        assert (proc.returncode == 0) == (path in ignored), path
