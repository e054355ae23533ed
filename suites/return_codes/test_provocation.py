"""Each failure code of the map path: honest attempts to provoke it, each in a child process
bounded in time, and the state after a failure.

Spec: vkMapMemory2KHR Return Codes (VK_ERROR_OUT_OF_HOST_MEMORY, VK_ERROR_OUT_OF_DEVICE_MEMORY,
VK_ERROR_MEMORY_MAP_FAILED); Fundamentals, Return Codes ("if a command fails, ... the
objects it operates on are left as they were").  Whatever the driver returns under pressure
must be an allowed code, and afterwards the memory is not left mapped, its contents are
intact and the device is not lost.  The record of each attempt goes into the report's
return-code table, provoked or not.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vkmap_cts.fixtures.rules.coverage import covers, host_lacks
from vkmap_cts.fixtures.vk.errors import RuleBroken

ROOT = Path(__file__).resolve().parents[2]
BOUND_S = 180


@covers("GUARANTEE-return-codes-under-pressure", "GUARANTEE-state-after-failure")
@pytest.mark.heavy
@pytest.mark.parametrize("scenario", ["host-alloc", "rlimit-as", "many-maps", "libfiu"])
def test_pressure_gives_an_allowed_code_and_leaves_a_sound_state(physical_device, request, scenario):
    """Under each kind of resource pressure, in a child process, a map returns an allowed code, and the state after it
    is sound."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "vkmap_cts.fixtures.provoke.provocation", scenario],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=BOUND_S,
        )
    except subprocess.TimeoutExpired as e:
        _hand_over_the_scene(request, e.stdout)
        record = {
            "pressure": scenario,
            "targets": [],
            "results": [],
            "summary": f"the child did not finish within {BOUND_S} s",
            "outcome": "Timeout",
        }
        request.node.user_properties.append(("provocations", [record]))
        raise RuleBroken(
            "GUARANTEE-return-codes-under-pressure", f"{scenario}: the provocation did not end within {BOUND_S} s"
        ) from None
    _hand_over_the_scene(request, proc.stdout)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{") and not x.startswith('{"scene"')]
    if proc.returncode < 0:
        raise RuleBroken(
            "GUARANTEE-return-codes-under-pressure",
            f"{scenario}: the child died of signal {-proc.returncode} (the driver crashed)",
            proc.stderr[-3000:],
        )
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{scenario}: the provocation's child ended with {proc.returncode} without its record (the suite's own "
            f"error)\n{proc.stderr[-3000:]}"
        )
    record = json.loads(lines[-1])
    request.node.user_properties.append(("provocations", [record]))
    if record["disallowed"]:
        first = record["disallowed"][0]
        raise RuleBroken(first["rule"], f"{first['observed']} ({scenario}: {len(record['disallowed'])} in all)")
    if record.get("available") is False:  # a tool of the test host's (libfiu) is missing: says nothing of the driver
        host_lacks(f"what this provocation needs: {record['summary']}")
    after = record["after"]
    for held, observed in (
        (after["remapped"], "after the pressure was lifted, a valid map of the same memory failed (left mapped?)"),
        (
            after["contents_intact"],
            "the memory's contents (flushed before the pressure) changed across the map under it",
        ),
        (after["device_ok"], "vkDeviceWaitIdle failed after the pressure: the device is lost"),
    ):
        if not held:
            raise RuleBroken("GUARANTEE-state-after-failure", f"{scenario}: {observed}")


def _hand_over_the_scene(request, stdout) -> None:
    """The child's scene (the device, memory type and size it used, printed before any pressure): a failure's
    standalone reproducer sets the same scene up (fixtures/plugins/reproducers.py)."""
    text = stdout.decode(errors="replace") if isinstance(stdout, bytes) else stdout or ""
    for line in text.splitlines():
        if line.startswith('{"scene"'):
            request.node.user_properties.append(("scene", json.loads(line)["scene"]))
            return
