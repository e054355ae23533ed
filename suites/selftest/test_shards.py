"""--shard I/N: a deterministic split whose shards, merged, are the unsharded run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vkmap_cts.fixtures.plugins.markers import parse_shard, shard_of
from vkmap_cts.fixtures.vk.errors import BadOption

ROOT = Path(__file__).resolve().parents[2]
PART = ["suites/validation/test_vkMapMemory2.py", "suites/validation/test_VkMemoryUnmapInfo.py"]


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
