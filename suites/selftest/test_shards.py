"""--shard I/N: a deterministic split whose shards, merged, are the unsharded run; deqp-runner's --fraction N (every
N-th test, split by --shard as deqp-runner splits it) and --caselist FILE (exactly the IDs listed, renamed ones as their
new IDs)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vkmap_cts.fixtures.plugins.selection import fraction_of, parse_shard, shard_of
from vkmap_cts.fixtures.vk.errors import BadOption

ROOT = Path(__file__).resolve().parents[2]
PART = ["suites/validation/test_vkMapMemory2.py", "suites/validation/test_VkMemoryUnmapInfo.py"]
ONE = "suites/validation/test_vkMapMemory2.py::test_boundary_row[ppData-parameter:invalid:ppData = NULL-vkMapMemory2]"


def test_shards_partition_the_tests_the_same_way_in_any_order():
    """Every test is in exactly one shard, shards differ in size by one at most, and the order tests are collected in
    does not matter."""
    ids = [f"suites/t.py::test_{i}" for i in range(23)]
    shards = [shard_of(ids, (i, 4)) for i in range(1, 5)]
    assert set().union(*shards) == set(ids) and sum(map(len, shards)) == len(ids)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert shard_of(list(reversed(ids)), (2, 4)) == shards[1]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "-1/2"])
def test_a_bad_shard_is_a_bad_option(text):
    """--shard with I outside 1..N, or not I/N, is refused."""
    with pytest.raises(BadOption):
        parse_shard(text)


def _run(out: Path, *args: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--hypothesis-profile",
        "ci",
        *PART,
        f"--report-dir={out}",
        *args,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def test_merged_shards_equal_the_unsharded_run(tmp_path):
    """Two shards merged give the unsharded run's tests, outcomes, counts and verdict."""
    from vkmap_cts.reports.__main__ import main

    whole = _run(tmp_path / "whole")
    one, two = _run(tmp_path / "s1", "--shard", "1/2"), _run(tmp_path / "s2", "--shard", "2/2")
    assert (
        one["tests"]
        and two["tests"]
        and {t["nodeid"] for t in one["tests"]}.isdisjoint({t["nodeid"] for t in two["tests"]})
    )
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "-o", str(tmp_path / "merged")]) == 0
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert {t["nodeid"]: t["outcome"] for t in merged["tests"]} == {t["nodeid"]: t["outcome"] for t in whole["tests"]}
    assert merged["counts"] == whole["counts"] and merged["verdict"] == whole["verdict"]


def _collected(*args: str) -> tuple[list[str], str]:
    """The test IDs a run would take (collection only), and what it said on stderr."""
    cmd = [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [line for line in proc.stdout.splitlines() if "::" in line], proc.stderr


def test_a_fraction_is_every_nth_test_and_its_shards_merge_into_it():
    """--fraction 3 takes every third test by sorted ID, starting at the first; --shard splits what the fraction kept,
    so the shards of a --fraction run together are that run, as with deqp-runner."""
    every, _ = _collected(*PART)
    third, _ = _collected(*PART, "--fraction", "3")
    assert set(third) == fraction_of(every, 3) == set(sorted(every)[::3]) and 0 < len(third) < len(every)
    shards = [set(_collected(*PART, "--fraction=3", f"--shard={i}/2")[0]) for i in (1, 2)]
    assert shards[0] | shards[1] == set(third) and not shards[0] & shards[1]
    assert set(_collected(*PART, "--fraction", "1")[0]) == set(every)


def test_a_caselist_runs_exactly_its_ids_renamed_ones_as_their_new_ids(tmp_path):
    """--caselist FILE: exactly the test IDs it lists; a renamed test's old ID (reports/test-id-aliases.txt) runs its
    new ID, and a line naming no test is a warning that names the line."""
    from vkmap_cts.reports import test_ids

    renamed = sorted(test_ids.repository().renamed.items())
    old, new = next((o, n) for o, n in renamed if n.startswith("suites/validation/"))
    listed = ONE
    cases = tmp_path / "cases.txt"
    cases.write_text(f"# a smoke\n{old}\n\n{listed}\nsuites/validation/test_gone.py::test_x\n")
    ids, said = _collected("suites/validation", "--caselist", str(cases))
    assert sorted(ids) == sorted([new, listed]), ids
    assert f"--caselist {cases}:2: {old!r} was renamed {new!r}" in said, said
    assert f"--caselist {cases}:5: 'suites/validation/test_gone.py::test_x' matches no test" in said, said


def test_a_run_chosen_by_caselist_or_fraction_is_partial_and_says_which(tmp_path):
    """The verdict line and results.json name the knob that chose the tests, so nothing claims the whole suite."""
    cases = tmp_path / "cases.txt"
    cases.write_text(ONE + "\n")
    for args, partial in (([f"--caselist={cases}"], f"--caselist {cases}"), (["--fraction=5"], "--fraction 5")):
        doc = _run(tmp_path / partial.split()[0].strip("-"), *args)
        assert doc["run"]["scope"]["partial"] == partial and doc["run"]["scope"]["ran"] >= 1, doc["run"]["scope"]
