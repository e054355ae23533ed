"""Self-tests with VK_LAYER_VKMAP_noncoherent (doubles/noncoherent_layer.c): a conformant driver double that gives
lavapipe a HOST_VISIBLE type without HOST_COHERENT (and placed maps).  The suite must pass it, and must fail each
broken variant of it by many items, each naming its rule (never the suite's own error): a flush that moves nothing
into the memory, and an invalidate that moves nothing into the mapping.  The whole suite runs on the conformant
layer in the driver matrix (ci/matrix); here, the tests that judge bytes on non-coherent memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from vkmap_cts.suites.selftest.doubles import noncoherent_layer

ROOT = Path(__file__).resolve().parents[2]
# The tests that move bytes between the host, the memory and the device on every HOST_VISIBLE type.
SELECTION = (
    "suites/operation/test_cts_mapping.py",
    "suites/operation/test_device_access.py",
    "suites/operation/test_map_memory2.py",
    "suites/operation/test_contents.py",
    "-k",
    "not dedicated_image and not free_while_mapped",
)
# How many items each variant must fail at least, and the rules their failures may name.
CAUGHT = {
    "flush-moves-nothing": (
        30,
        {
            "GUARANTEE-host-view-model",
            "GUARANTEE-device-coherent",
            "GUARANTEE-contents-preserved",
            "GUARANTEE-outside-range-untouched",
        },
    ),
    "invalidate-moves-nothing": (20, {"GUARANTEE-host-view-model", "GUARANTEE-device-coherent"}),
}


@pytest.fixture(scope="module")
def layer(tmp_path_factory, physical_device):
    if "llvmpipe" not in physical_device.name:
        pytest.skip(f"NotSupported: the layer is a double over lavapipe; this run judges {physical_device.name}")
    try:
        return noncoherent_layer.build(tmp_path_factory.mktemp("noncoherent-layer"))
    except noncoherent_layer.CannotBuild as e:
        pytest.skip(f"NotSupported: {e}")


def _run(layer, bug, out: Path, selection=SELECTION) -> dict:
    env = dict(os.environ, **noncoherent_layer.enabling(layer, bug))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "--flake-reruns=0",
        "--hypothesis-profile=ci",
        f"--report-dir={out}",
        *selection,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    results = out / "results.json"
    assert results.is_file(), proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads(results.read_text())


def _failures(doc: dict) -> Counter:
    return Counter(t.get("rule") or t["outcome"] for t in doc["tests"] if t["outcome"] not in ("Pass", "NotSupported"))


def test_the_conformant_layer_passes_and_runs_every_non_coherent_item(layer, tmp_path):
    """On the conformant double every selected item passes, and none is NotSupported for want of a non-coherent type."""
    doc = _run(layer, None, tmp_path)
    assert not _failures(doc), _failures(doc)
    skipped = [t["nodeid"] for t in doc["tests"] if t["outcome"] == "NotSupported"]
    assert not skipped, skipped[:5]


@pytest.mark.parametrize("bug", sorted(CAUGHT))
def test_each_broken_variant_fails_many_items_by_their_rules(layer, tmp_path, bug):
    """Each broken variant fails at least its number of items, every failure a Fail naming one of its rules."""
    least, rules = CAUGHT[bug]
    failures = _failures(_run(layer, bug, tmp_path))
    assert sum(failures.values()) >= least and set(failures) <= rules, f"{bug}: {dict(failures)}"


def test_a_released_placed_address_handed_out_again_fails_with_a_reproducer(layer, tmp_path):
    """A driver that, after a placed map and a plain unmap, hands the released placed address out again for a plain map
    (the finding on NVIDIA 580) fails the placed-map test through both map2 entry points, each reproducer showing it 3
    times
    of 3."""
    doc = _run(
        layer, "stale-after-placed", tmp_path, ("suites/operation/test_placed_maps.py", "-k", "shows_the_memory")
    )
    failed = [t for t in doc["tests"] if t["outcome"] != "Pass"]
    assert len(failed) == 2 and all(
        t["outcome"] == "Fail" and t.get("rule") == "GUARANTEE-ppdata-written" for t in failed
    ), [(t["outcome"], t.get("message")) for t in failed]
    assert all((t.get("standalone") or {}).get("reproduced") == 3 for t in failed), [
        t.get("standalone") for t in failed
    ]
