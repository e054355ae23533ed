"""Benchmark of the suite on the installed driver: prints a table, writes JSON.

    ci/bench [--json FILE] [--quick] [pytest options for the suite runs, e.g. --vk-device 1]

Measured in one run on one machine:
  raw map+unmap       one vkMapMemory2KHR + vkUnmapMemory2KHR through raw cffi function pointers
  suite map+unmap     the same through the driver module's loop (Driver.map_unmap_each: validate, watchdog,
                      call, screen, journal, state, observe), as the checked examples make their calls
  one call at a time  the same through Memory.map2() and Memory.unmap2(), one call each
  checked example     generate (hypothesis), validate, map, check success and alignment, unmap: one range of
                      test_every_map_is_aligned's batches (fixtures/judge/properties/alignment.py mapped_alignment)
  examples/s/worker   checked examples per second on one worker
  worker start-up     instance + device creation, as each xdist worker does it
  ci profile wall     the whole conformance run with the 'ci' profile, -n 1 and -n auto (set-up excluded)
  longest test        the longest test of the -n auto run, and the sum of its tests' durations over -n 1's: how
                      much the workers slow each other down (a driver lock, a shared resource)
  timeline            when the first test of each run began and the last ended: the rest of the wall time is
                      start-up (workers, collection) and the end (reports)
  time in the driver  what the run's tests spent inside vkAllocateMemory + vkFreeMemory, and inside the map and
                      unmap entry points (each test's driver_seconds)
  per CTS family      the time of the tests of each dEQP-VK.memory family (fixtures/rules/cts.py), from that run
Nothing here is a test: the numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _best(fns: dict, repeat: int = 7) -> dict:
    """The best of ``repeat`` timings (seconds) of each of ``fns`` (name -> function), after one run of each untimed:
    the least disturbed run of each.  The functions take turns within each round, so that a change in the machine's
    load during the measurement falls on all of them alike and their ratios hold."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def _open_device():
    """(instance, physical device, device) as each xdist worker makes them: the device the run selected."""
    from vkmap_cts.fixtures.access.device import Device
    from vkmap_cts.fixtures.vk.instance import Instance
    from vkmap_cts.fixtures.vk.selection import select

    instance = Instance()
    physical = select(instance.physical_devices(), os.environ.get("VKMAP_CTS_DEVICE_UUID"))
    return instance, physical, Device(instance, physical)


def measure_calls(n: int) -> dict:
    from hypothesis import given, settings

    from vkmap_cts.fixtures.judge.properties.alignment import mapped_alignment
    from vkmap_cts.fixtures.judge.strategies import range_batches
    from vkmap_cts.fixtures.vk import abi

    t0 = time.perf_counter()
    instance, physical, device = _open_device()
    startup = time.perf_counter() - t0
    out = {"device": physical.identity(), "worker_startup_ms": startup * 1e3}
    try:
        mt = physical.host_visible_types[0]
        mem = device.allocate(mt, 65536)
        drv = device.driver
        ffi = abi.ffi
        info = ffi.new(
            "VkMemoryMapInfo*",
            {
                "sType": abi.VK_STRUCTURE_TYPE_MEMORY_MAP_INFO,
                "memory": ffi.cast("VkDeviceMemory", mem.handle),
                "size": abi.VK_WHOLE_SIZE,
            },
        )
        uinfo = ffi.new(
            "VkMemoryUnmapInfo*",
            {"sType": abi.VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO, "memory": ffi.cast("VkDeviceMemory", mem.handle)},
        )
        pp = ffi.new("void**")
        map_pfn, unmap_pfn, dev = drv.pfn["vkMapMemory2KHR"], drv.pfn["vkUnmapMemory2KHR"], drv.device

        def raw():
            for _ in range(n):
                map_pfn(dev, info, pp)
                unmap_pfn(dev, uinfo)

        def one_by_one():
            for _ in range(n):
                mem.map2()
                mem.unmap2()

        whole = [(0, abi.VK_WHOLE_SIZE)] * n

        def loop():  # the driver's loop as the checked examples reach it, over ranges made once
            device.journal.begin_example()
            mapped_alignment(mem, "vkMapMemory2KHR", whole, physical.min_memory_map_alignment)

        # A checked example: a generated range, validated, mapped, judged, unmapped.
        # Hypothesis draws batches of ranges (vkmap_cts.fixtures.judge.strategies.range_batches), as the suites do.
        alignment = physical.min_memory_map_alignment
        examples = max(20, n // 32)
        checked_counts = []

        @settings(max_examples=examples, database=None, derandomize=True, deadline=None)
        @given(batch=range_batches(65536))
        def checked_examples(batch):
            # each example starts its own journal, as in the suites (fixtures/plugins/reproducers.py)
            device.journal.begin_example()
            ranges = batch.ranges()
            mapped_alignment(mem, "vkMapMemory2KHR", ranges, alignment)  # what test_every_map_is_aligned does with them
            checked_counts[-1] += len(ranges)

        def checked():
            checked_counts.append(0)
            checked_examples()

        best = _best({"raw": raw, "loop": loop, "one": one_by_one, "checked": checked})
        out["raw_map_unmap_us"] = best["raw"] / n * 1e6
        out["suite_map_unmap_us"] = best["loop"] / n * 1e6
        out["one_call_at_a_time_us"] = best["one"] / n * 1e6
        per_example = best["checked"] / checked_counts[-1]  # the same examples each time (derandomized)
        out["checked_example_us"] = per_example * 1e6
        out["examples_per_s_per_worker"] = 1 / per_example
        out["overhead_ratio"] = out["checked_example_us"] / out["raw_map_unmap_us"]
        device.free(mem)
    finally:
        device.close()
        instance.close()
    return out


def _contention_side(role: str, queue, done, start_at: float, large: int) -> None:
    """One of the two processes of ``measure_contention``, with its own instance and device.  ``small`` allocates,
    maps, unmaps and frees 64 KiB objects until a second after ``done`` is set, and reports when each finished;
    ``large`` waits a second, allocates and frees ``large`` bytes on each HOST_VISIBLE type, reports when each call
    began and ended, and sets ``done``."""
    instance, physical, device = _open_device()  # a spawned process: this module, imported again, set sys.path
    out = []
    try:
        while time.time() < start_at:
            time.sleep(0.005)
        if role == "small":
            mt, end = physical.host_visible_types[0], None
            while end is None or time.time() < end:
                mem = device.allocate(mt, 65536)
                mem.map2()
                mem.unmap2()
                device.free(mem)
                out.append(time.time())
                if end is None and done.is_set():
                    end = time.time() + 1.0
        else:
            time.sleep(1.0)
            for mt in physical.host_visible_types:
                size = min(large, mt.heap_size // 4)
                t = time.time()
                mem = device.allocate(mt, size)
                allocated = time.time()
                device.free(mem)
                out.append((mt.index, size, t, allocated, time.time()))
    finally:
        done.set()
        device.close()
        instance.close()
        queue.put((role, out))


def measure_contention(large: int = (4 << 30) + 4096) -> dict:
    """Does one process's large allocation hold up another process's driver calls?  Two processes, each with its own
    device: one allocates, maps, unmaps and frees 64 KiB objects in a loop; the other allocates and frees ``large``
    bytes (test_large_allocations' first size; at most a quarter of the heap) on each HOST_VISIBLE type.  The first's
    rate before and while the second's calls run says whether the driver serializes them across processes, which
    bounds what -n auto can gain."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue, done = ctx.Queue(), ctx.Event()
    start_at = time.time() + 5  # both processes have their devices by then
    sides = [ctx.Process(target=_contention_side, args=(r, queue, done, start_at, large)) for r in ("small", "large")]
    for p in sides:
        p.start()
    got = dict(queue.get(timeout=600) for _ in sides)
    for p in sides:
        p.join()
    small, calls = got["small"], got["large"]
    if not calls or not small:
        return {}
    busy = sum(end - t for _, _, t, _, end in calls)

    def rate(t0: float, t1: float) -> float:
        return sum(t0 <= t < t1 for t in small) / max(t1 - t0, 1e-9)

    return {
        "alone_per_s": rate(start_at, calls[0][2]),
        "beside_per_s": sum(rate(t, end) * (end - t) for _, _, t, _, end in calls) / busy,
        "large": [
            {"type": i, "bytes": size, "allocate_s": allocated - t, "free_s": end - allocated}
            for i, size, t, allocated, end in calls
        ],
    }


def measure_suite(workers: str, extra: list[str]) -> tuple[float, Path]:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "suites",
        "--ignore=suites/selftest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile",
        "ci",
        "-n",
        workers,
        "--dist",
        "worksteal",
        "--report-dir",
        str(ROOT / "reports" / f"bench-run-n{workers}"),
        *extra,
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - t
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    print(f"  pytest -n {workers}: {wall:.1f} s ({last})", flush=True)
    return wall, ROOT / "reports" / f"bench-run-n{workers}" / "results.json"


def durations(results: Path) -> tuple[float, str, float]:
    """(sum of the tests' durations, the longest test, its duration) of a run's results.json."""
    tests = json.loads(results.read_text())["tests"]
    longest = max(tests, key=lambda t: t.get("duration") or 0)
    return sum(t.get("duration") or 0 for t in tests), longest["nodeid"], longest.get("duration") or 0


# The calls a driver may serialize across processes (an allocation lock): the -n 1 run's time in them bounds -n auto.
_SERIALIZED = ("vkAllocateMemory", "vkFreeMemory")


def driver_time(results: Path) -> dict[str, float]:
    """Seconds each entry point spent in the driver, summed over a run's tests (their ``driver_seconds``)."""
    spent: dict[str, float] = {}
    for t in json.loads(results.read_text())["tests"]:
        for entry, seconds in ((t.get("properties") or {}).get("driver_seconds") or {}).items():
            spent[entry] = spent.get(entry, 0.0) + seconds
    return spent


def timeline(results: Path) -> tuple[float, float]:
    """(when the first test began, when the last ended), in seconds after the run began."""
    tests = [t for t in json.loads(results.read_text())["tests"] if "start" in t]
    if not tests:
        return 0.0, 0.0
    return min(t["start"] for t in tests), max(t["start"] + (t.get("duration") or 0) for t in tests)


def family_times(results: Path) -> list[tuple[str, int, float]]:
    """(CTS family, items, seconds) from a run's results.json: each family's items are its test's items with
    the family's operation among their parameters."""
    from vkmap_cts.fixtures.rules import cts

    tests = json.loads(results.read_text())["tests"]
    out = []
    for f in cts.FAMILIES:
        op = f.needs.get("operation", (None,))[0]
        items = [
            t
            for t in tests
            if t["nodeid"].split("[")[0] == f.test
            and (op is None or op in t["nodeid"].partition("[")[2].rstrip("]").split("-"))
        ]
        out.append((f.name, len(items), sum(t.get("duration") or 0 for t in items)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--json",
        default=str(ROOT / "reports" / "bench.json"),
        help="where to write the numbers (default reports/bench.json)",
    )
    ap.add_argument("--calls", type=int, default=20000, help="map+unmap pairs per timing (default 20000)")
    ap.add_argument("--no-suite", action="store_true", help="skip the whole-suite wall-time runs")
    ap.add_argument("--no-contention", action="store_true", help="skip the two-process contention measurement")
    args, extra = ap.parse_known_args()

    print("measuring calls ...", flush=True)
    calls = measure_calls(args.calls)
    contention = {}
    if not args.no_contention:
        print("measuring contention between two processes ...", flush=True)
        contention = measure_contention()
    suite = {}
    if not args.no_suite:
        print("measuring the ci profile run ...", flush=True)
        suite["n1_s"], one = measure_suite("1", extra)
        suite["nauto_s"], many = measure_suite("auto", extra)
        suite["speedup"] = suite["n1_s"] / suite["nauto_s"]
        suite["n1_test_s"], _, _ = durations(one)
        suite["nauto_test_s"], suite["longest_test"], suite["longest_test_s"] = durations(many)
        suite["families"] = family_times(many)
        suite["n1_driver_s"], suite["nauto_driver_s"] = driver_time(one), driver_time(many)
        suite["n1_timeline_s"], suite["nauto_timeline_s"] = timeline(one), timeline(many)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "calls": calls,
        "suite": suite,
        "contention": contention,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=1))

    d = calls["device"]
    raw = calls["raw_map_unmap_us"]
    rows = [
        ("device", f"{d['deviceName']} ({d['driverName']} {d['driverInfo']})"),
        ("host", f"{os.cpu_count()} CPUs, Python {platform.python_version()}"),
        ("raw map+unmap (cffi)", f"{calls['raw_map_unmap_us']:.2f} us"),
        (
            "suite map+unmap (the driver module's loop)",
            f"{calls['suite_map_unmap_us']:.2f} us = {calls['suite_map_unmap_us'] / raw:.1f}x raw",
        ),
        (
            "suite map+unmap, one call at a time",
            f"{calls['one_call_at_a_time_us']:.2f} us = {calls['one_call_at_a_time_us'] / raw:.1f}x raw",
        ),
        (
            "checked example (generate, validate, map, check, unmap)",
            f"{calls['checked_example_us']:.2f} us = {calls['overhead_ratio']:.1f}x raw",
        ),
        ("checked examples per second per worker", f"{calls['examples_per_s_per_worker']:,.0f}"),
        ("worker start-up (instance + device)", f"{calls['worker_startup_ms']:.1f} ms"),
    ]
    if contention:
        rows += [
            ("64 KiB allocate+map+unmap+free per second, alone", f"{contention['alone_per_s']:,.0f}"),
            (
                "the same while another process allocates and frees",
                f"{contention['beside_per_s']:,.0f} ("
                + ", ".join(
                    f"type {c['type']}: {c['bytes'] / 2**30:.1f} GiB in {c['allocate_s']:.2f} s + {c['free_s']:.2f} s"
                    for c in contention["large"]
                )
                + ")",
            ),
        ]
    if suite:
        rows += [
            ("ci profile, -n 1", f"{suite['n1_s']:.1f} s"),
            (f"ci profile, -n auto ({os.cpu_count()} CPUs)", f"{suite['nauto_s']:.1f} s"),
            ("speed-up -n auto over -n 1", f"{suite['speedup']:.2f}x"),
            (
                "longest test of the -n auto run",
                f"{suite['longest_test_s']:.1f} s ({suite['longest_test']})",
            ),
            (
                "sum of test durations, -n auto over -n 1",
                f"{suite['nauto_test_s']:.0f} s over {suite['n1_test_s']:.0f} s = "
                f"{suite['nauto_test_s'] / suite['n1_test_s']:.1f}x",
            ),
        ]
        spent = suite["n1_driver_s"]
        first, last = suite["n1_timeline_s"]
        serial = sum(spent.get(k, 0.0) for k in _SERIALIZED)
        bound = serial + first + (suite["n1_s"] - last)
        rows.append(
            (
                "-n auto's bound where the driver serializes these calls across processes",
                f"{bound:.1f} s = -n 1's {serial:.1f} s in them + {first + suite['n1_s'] - last:.1f} s of start and "
                f"end: at most {suite['n1_s'] / bound:.1f}x",
            )
        )
        for run in ("n1", "nauto"):
            spent = suite[f"{run}_driver_s"]
            first, last = suite[f"{run}_timeline_s"]
            label = "-n 1" if run == "n1" else "-n auto"
            alloc = sum(spent.get(k, 0.0) for k in _SERIALIZED)
            rows += [
                (
                    f"{label}: first test began, last test ended",
                    f"{first:.1f} s, {last:.1f} s after the run began ({suite[f'{run}_s']:.1f} s wall)",
                ),
                (
                    f"{label}: time in vkAllocateMemory + vkFreeMemory",
                    f"{alloc:.1f} s ({spent.get('vkAllocateMemory', 0.0):.1f} + {spent.get('vkFreeMemory', 0.0):.1f})",
                ),
                (
                    f"{label}: time in the map and unmap entry points",
                    f"{sum(v for k, v in spent.items() if k.startswith(('vkMap', 'vkUnmap'))):.1f} s",
                ),
            ]
    for name, items, seconds in suite.get("families", []):
        rows.append(
            (
                f"CTS family {name}",
                f"{seconds:.2f} s over {items} items ({seconds / max(items, 1) * 1e3:.0f} ms an item)",
            )
        )
    width = max(len(k) for k, _ in rows)
    print()
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | --- |")
    for k, v in rows:
        print(f"| {k.ljust(width)} | {v} |")
    print(f"\nnumbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
