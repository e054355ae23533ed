"""Test IDs are an interface (reports/test_ids.py): the checked-in list is the tests collected now, every
rename has an alias to a listed test, and a baseline, skips or flakes file or an old run that names a
test by its old ID still applies to it, with a warning once per old ID; a line that names no test is a
warning naming the line, and with --strict-baseline a bad option (exit 4)."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from vkmap_cts.reports import gate, test_ids
from vkmap_cts.reports.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
RLIMIT_AS = (
    "suites/return_codes/test_provocation.py::test_pressure_gives_an_allowed_code_and_leaves_a_sound_state[rlimit-as]"
)
# A real rename (the validation tables' refactor), from reports/test-id-aliases.txt.
OLD = "suites/validation/test_vkMapMemory2.py::test_null_ppdata_is_refused[vkMapMemory2]"
NEW = "suites/validation/test_vkMapMemory2.py::test_boundary_row[ppData-parameter:invalid:ppData = NULL-vkMapMemory2]"


def test_the_list_is_the_tests_collected_now():
    """reports/test-ids.txt lists exactly the conformance tests collected now: a test added, removed or renamed
    without regenerating the list (and, for a rename, an alias) fails here."""
    problems = test_ids.difference(test_ids.read_list(), test_ids.collect(ROOT))
    assert not problems, "\n".join(problems[:40])


def test_the_list_check_fails_on_a_rename_and_says_what_to_do():
    listed = test_ids.read_list()
    collected = sorted(listed - {RLIMIT_AS} | {RLIMIT_AS.replace("rlimit-as", "address-space-limit")})
    problems = test_ids.difference(listed, collected)
    assert problems[0].startswith("test-ids.txt differs from the tests collected now (1 new, 1 gone)")
    assert test_ids.REGENERATE in problems[0] and "test-id-aliases.txt (old ID -> new ID)" in problems[0]
    assert f"  - {RLIMIT_AS}" in problems
    assert test_ids.difference(listed, sorted(listed)) == []


def test_every_alias_names_a_listed_test_and_no_listed_test_is_renamed():
    known = test_ids.repository()
    assert known.renamed[OLD] == NEW and known.ids == test_ids.read_list()
    assert known.problems() == []


def test_a_wrong_alias_file_fails(tmp_path):
    """A new ID not on the list, an old ID still on it, a malformed line, an old ID renamed twice and a circle
    all fail; a rename of a rename is followed to the end."""
    listed = test_ids.read_list()
    aliases = tmp_path / "aliases.txt"
    aliases.write_text(f"old::a -> suites/no_such.py::test_x\n{NEW} -> {RLIMIT_AS}\n")
    problems = test_ids.KnownIds(listed, test_ids.read_aliases(aliases)).problems()
    assert problems == [
        "'old::a' -> 'suites/no_such.py::test_x': the new ID is not in test-ids.txt",
        f"{NEW!r} is renamed but still in test-ids.txt",
    ]
    for text, error in [
        ("old::a new::b\n", "aliases.txt:1: expected 'old ID -> new ID'"),
        ("# head\nold::a -> \n", "aliases.txt:2: expected"),
        ("old::a -> new::b\nold::a -> new::c\n", "aliases.txt:2: 'old::a' is renamed twice"),
        ("a::x -> b::x\nb::x -> a::x\n", "go round in a circle"),
    ]:
        aliases.write_text(text)
        with pytest.raises(ValueError, match=re.escape(error)):
            test_ids.read_aliases(aliases)
    aliases.write_text(f"first::a -> second::a\nsecond::a -> {RLIMIT_AS}\n")
    assert test_ids.read_aliases(aliases) == {"first::a": RLIMIT_AS, "second::a": RLIMIT_AS}


def test_the_projects_own_baselines_and_flakes_name_listed_tests():
    """ci/*-fails.txt and ci/drivers/*-flakes.txt name only tests on the list, by their current IDs."""
    notes = test_ids.Notes()
    for path in sorted((ROOT / "ci").glob("*-fails.txt")):
        gate.load(path, notes)
    for path in sorted((ROOT / "ci" / "drivers").glob("*-flakes.txt")):
        gate.load_patterns(path, "--flakes", notes)
    assert notes.lines() == []


def test_the_package_carries_the_list_and_the_aliases():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert {test_ids.LIST.name, test_ids.ALIASES.name} <= set(data["vkmap_cts.reports"])


def test_a_baseline_naming_an_old_id_expects_the_new_one(tmp_path):
    """The old ID is read as the new one, warned about once however often it is used; a line naming no test is a
    warning naming the file and line, and still applies as written."""
    base = tmp_path / "fails.txt"
    base.write_text(f"# old IDs\n{OLD},Fail\n{OLD},Crash\nsuites/no_such.py::test_x,Fail\n")
    notes = test_ids.Notes()
    expected = gate.load(base, notes)
    assert expected == {NEW: "Crash", "suites/no_such.py::test_x": "Fail"}
    assert notes.lines() == [
        f"vkmap-cts: --baseline {base}:2: {OLD!r} was renamed {NEW!r} (reports/test-id-aliases.txt); read as the "
        "new ID",
        f"vkmap-cts: --baseline {base}:4: 'suites/no_such.py::test_x' matches no test",
    ]
    result = gate.judged([{"nodeid": NEW, "outcome": "Crash"}], expected, str(base))
    assert result["failures"] == [] and result["expected"] == [NEW]


def test_skips_and_flakes_lines(tmp_path):
    """A line that is exactly an old ID (escaped or not, anchored or not) matches the new ID; a pattern that matches
    only old IDs, or nothing, is a warning; a pattern that matches a listed test is not."""
    flakes = tmp_path / "flakes.txt"
    flakes.write_text(f"^{re.escape(OLD)}$\n{OLD}\ntest_null_ppdata_is_refused\nno_such_test\ntest_boundary_row\n")
    notes = test_ids.Notes()
    patterns = gate.load_patterns(flakes, "--flakes", notes)
    assert gate.first_match(patterns, NEW) == 1 and gate.first_match(patterns, "x" + NEW) == 2
    assert [n for n, p in patterns if p.search(OLD)] == [3], "a line naming the old ID no longer matches it"
    lines = notes.lines()
    assert lines[0].startswith(f"vkmap-cts: --flakes {flakes}:1: {OLD!r} was renamed {NEW!r}") and len(lines) == 3
    assert lines[1].startswith(f"vkmap-cts: --flakes {flakes}:3: 'test_null_ppdata_is_refused' matches no test, only")
    assert "renamed IDs" in lines[1] and " and 1 more; reports/test-id-aliases.txt)" in lines[1]
    assert lines[2] == f"vkmap-cts: --flakes {flakes}:4: 'no_such_test' matches no test"


def _results(path: Path, tests: list[tuple[str, str]]) -> str:
    doc = {
        "schemaVersion": 1,
        "run": {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h", "label": "r"},
        "tests": [{"nodeid": n, "outcome": o, "duration": 0.1} for n, o in tests],
    }
    path.write_text(json.dumps(doc))
    return str(path)


def test_diff_and_merge_read_an_old_run_by_the_new_ids(tmp_path, capsys):
    """A run made before the rename diffs against one after it test by test (no test added or removed, a regression
    found), and merges into one run under the new ID."""
    old = _results(tmp_path / "old.json", [(OLD, "Pass"), (RLIMIT_AS, "Fail")])
    new = _results(tmp_path / "new.json", [(NEW, "Fail"), (RLIMIT_AS, "Fail")])
    assert main(["diff", old, new]) == 1
    out, err = capsys.readouterr()
    assert f"Pass -> Fail{' ' * 12} {NEW}" in out and "added: 0" in out and "removed: 0" in out
    assert err == f"vkmap-cts: {old}: {OLD!r} was renamed {NEW!r} (reports/test-id-aliases.txt); read as the new ID\n"
    shard = _results(tmp_path / "shard.json", [(OLD, "Fail")])
    other = _results(tmp_path / "other.json", [(RLIMIT_AS, "Fail")])
    base = tmp_path / "fails.txt"
    base.write_text(f"{OLD},Fail\n{RLIMIT_AS},Fail\n")
    out_dir = tmp_path / "merged"
    assert main(["merge", shard, other, "-o", str(out_dir), "--gate", f"--baseline={base}"]) == 0
    merged = json.loads((out_dir / "results.json").read_text())
    assert sorted(t["nodeid"] for t in merged["tests"]) == sorted([NEW, RLIMIT_AS])
    assert capsys.readouterr().err.count("was renamed") == 1, "once per old ID, across the runs and the baseline"


def _gated_run(tmp_path: Path, *args: str, aliases: str = "") -> subprocess.CompletedProcess:
    """The RLIMIT_AS provocation on lavapipe (its known Fail), gated; ``aliases`` replaces the alias file (a
    plugin that points reports/test_ids.py at it)."""
    double = tmp_path / "double"
    double.mkdir(exist_ok=True)
    (tmp_path / "aliases.txt").write_text(aliases)
    (double / "renamed_ids.py").write_text(
        "from pathlib import Path\n\nfrom vkmap_cts.reports import test_ids\n\n"
        f"test_ids.ALIASES = Path({str(tmp_path / 'aliases.txt')!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VKMAP_CTS"))}
    env["PYTHONPATH"] = os.pathsep.join([str(double), str(ROOT)])
    cmd = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), "-q"]
    cmd += ["-p", "no:cacheprovider", "-p", "renamed_ids", RLIMIT_AS, "--vk-device", "llvmpipe"]
    cmd += [f"--report-dir={tmp_path / 'out'}", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    if "--vk-device 'llvmpipe': no device" in proc.stderr:
        pytest.skip("no lavapipe here: the run needs its known RLIMIT_AS failure")
    return proc


def test_a_baseline_with_a_renamed_id_still_gates(tmp_path):
    """A real run on lavapipe, whose RLIMIT_AS provocation fails (ci/lavapipe-fails.txt), against a baseline that
    names it by an old ID: the gate expects the failure (exit 0) and warns once; without the alias the failure is
    new (exit 1); a line naming no test is a warning, and with --strict-baseline exit 4 before anything runs."""
    old = "suites/return_codes/test_provocation.py::test_rlimit_as_pressure"
    base = tmp_path / "fails.txt"
    base.write_text(f"{old},Fail\n{old},Fail\nsuites/no_such.py::test_x,Fail\n")
    proc = _gated_run(tmp_path, f"--baseline={base}", aliases=f"{old} -> {RLIMIT_AS}\n")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 failing the gate; 1 ExpectedFail" in proc.stdout
    assert proc.stderr.count(f"--baseline {base}:1: {old!r} was renamed {RLIMIT_AS!r}") == 1, proc.stderr
    assert f"--baseline {base}:3: 'suites/no_such.py::test_x' matches no test" in proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [(t["nodeid"], t["outcome"]) for t in results["tests"]] == [(RLIMIT_AS, "Fail")]

    proc = _gated_run(tmp_path, f"--baseline={base}")
    assert proc.returncode == 1 and f"Fail: {RLIMIT_AS} (NEW, not in the baseline" in proc.stdout, proc.stdout[-3000:]
    assert f"--baseline {base}:1: {old!r} matches no test" in proc.stderr

    proc = _gated_run(tmp_path, f"--baseline={base}", "--strict-baseline", aliases=f"{old} -> {RLIMIT_AS}\n")
    assert proc.returncode == 4, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stderr.splitlines()[-1] == (
        f"vkmap-cts: error: --strict-baseline: --baseline {base}: 1 line naming no test of the suite (above)"
    )
    assert "passed" not in proc.stdout and "failed" not in proc.stdout
