"""Self-tests of the standalone reproducers (fixtures/reproduce/): generated from a journal, they
show a real driver bug and only that.

The bugs come from VK_LAYER_VKMAP_buggy (doubles/buggy_layer.c), a layer built here and put
between the loader and the real driver: a misaligned pointer, an ignored offset, bytes lost at
unmap.  For each, a conformance test run with the layer must Fail, and the reproducer it wrote
must exit 1 three times out of three with the layer, and 0 three times without it.  The same
layer crashes or hangs inside a map: the test is a Crash or a Timeout, and its reproducer ends
at that call.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vkmap_cts.fixtures.reproduce import c_source, confirm, pressure
from vkmap_cts.fixtures.rules.return_codes import REGISTRY
from vkmap_cts.fixtures.vk import abi
from vkmap_cts.suites.selftest.doubles import buggy_layer

ROOT = Path(__file__).resolve().parents[2]

# A test of each bug, and the rule it must break.
CAUGHT_BY = {
    "misaligned": (
        "suites/operation/test_alignment.py::test_every_map_is_aligned[vkMapMemory2KHR]",
        "GUARANTEE-map-alignment",
    ),
    "ignored-offset": (
        "suites/operation/test_identical_to_map_memory.py::test_bytes_written_through_one_entry_point_are_read_through_another[vkMapMemory2KHR-vkMapMemory2KHR]",
        "GUARANTEE-",
    ),
    "lost-bytes": (
        "suites/operation/test_map_memory2.py::test_whole_allocation_on_every_host_visible_type",
        "GUARANTEE-contents-preserved",
    ),
}


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    try:
        return buggy_layer.build(tmp_path_factory.mktemp("buggy-layer"))
    except buggy_layer.CannotBuild as e:
        pytest.skip(f"NotSupported: {e}")


def _run(tmp_path: Path, nodeid: str, env: dict, *options: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--flake-reruns=0",
        "--hypothesis-profile=ci",
        f"--report-dir={tmp_path}",
        nodeid,
        *(options or ("-p", "no:xdist")),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    results = tmp_path / "results.json"
    assert results.is_file(), proc.stdout[-3000:] + proc.stderr[-2000:]
    (test,) = json.loads(results.read_text())["tests"]
    return test


@pytest.mark.parametrize("bug", sorted(CAUGHT_BY))
def test_each_layer_bug_fails_and_its_reproducer_shows_it_only_with_the_layer(layer, tmp_path, bug):
    """The test Fails with the layer; its reproducer exits 1 three times with it and 0 three times without it."""
    nodeid, rule = CAUGHT_BY[bug]
    with_layer = dict(os.environ, **buggy_layer.enabling(layer, bug))
    test = _run(tmp_path / "run", nodeid, with_layer)
    assert test["outcome"] == "Fail" and test.get("rule", "").startswith(rule), (test["outcome"], test.get("message"))
    standalone = test["standalone"]
    assert standalone.get("reproduced") == 3 and standalone["runs"] == 3, standalone
    source = tmp_path / "run" / standalone["file"]
    assert source.is_file() and test["rule"] in standalone["observed"], standalone

    exe = tmp_path / "repro"
    subprocess.run(["cc", *confirm.BUILD, str(exe), str(source), "-ldl"], check=True, capture_output=True)
    without = {k: v for k, v in os.environ.items() if k not in buggy_layer.enabling(layer, bug)}
    for env, expected in ((with_layer, 1), (without, 0)):
        codes = [subprocess.run([str(exe)], env=env, capture_output=True, timeout=60).returncode for _ in range(3)]
        assert codes == [expected] * 3, (
            f"{bug}: {'with' if expected else 'without'} the layer the reproducer exited {codes}"
        )


@pytest.mark.parametrize(
    ("bug", "outcome", "said"),
    [("crash", "Crash", "CRASH: expected vkMapMemory2KHR("), ("hang", "Timeout", "HANG: expected vkMapMemory2KHR(")],
)
def test_a_driver_that_crashes_or_hangs_in_a_call_gets_a_reproducer_that_ends_there(
    layer, tmp_path, bug, outcome, said
):
    """A Crash or Timeout's reproducer (from the test's re-run alone) replays up to the call that died in it and exits 1
    there, three times of three; 0 without the layer."""
    nodeid = CAUGHT_BY["misaligned"][0]
    with_layer = dict(os.environ, **buggy_layer.enabling(layer, bug))
    test = _run(tmp_path / "run", nodeid, with_layer, "-n", "1", "--vk-call-timeout=1", "--vk-test-timeout=60")
    assert test["outcome"] == outcome, test
    standalone = test["standalone"]
    assert standalone.get("reproduced") == 3 and said in standalone["observed"], standalone
    exe = tmp_path / "repro"
    subprocess.run(
        ["cc", *confirm.BUILD, str(exe), str(tmp_path / "run" / standalone["file"]), "-ldl"],
        check=True,
        capture_output=True,
    )
    without = {k: v for k, v in os.environ.items() if k not in buggy_layer.enabling(layer, bug)}
    assert subprocess.run([str(exe)], env=without, capture_output=True, timeout=60).returncode == 0


def _journal(*events, devices=None, memories=None) -> dict:
    dev = {
        7: {
            "uuid": "00" * 16,
            "name": "a device",
            "instance_api_version": 4210688,
            "extensions": ["VK_KHR_map_memory2"],
            "placed_features": None,
            "queue_family": 0,
        }
    }
    return {"devices": devices or dev, "memories": memories or {}, "events": list(events)}


FAILED = {"op": "check", "passed": False, "message": "m"}
ALLOC = {"op": "allocate", "memory": 1, "device": 7, "type": 0, "size": 256}
MAP = {
    "op": "call",
    "entry": "vkMapMemory2KHR",
    "memory": 1,
    "offset": 0,
    "size": 256,
    "flags": 0,
    "next": [],
    "result": 0,
    "ptr": 0x1000,
}


def test_the_replay_ends_at_the_failed_check():
    """A Fail replays up to its first failed check; the events after it (the test's clean-up) are not replayed."""
    failed = {
        "op": "check",
        "rule": "GUARANTEE-map-alignment",
        "kind": "aligned",
        "passed": False,
        "message": "m",
        "call": 1,
        "alignment": 64,
    }
    after = {"op": "free", "memory": 1}
    source = c_source.generate(_journal(ALLOC, MAP, failed, after), "t", "Fail")
    assert "% 64u" in source and "free_memory(&dev" not in source


def test_a_disallowed_result_is_where_a_fail_without_a_failed_check_ends():
    """A Fail the return-code oracle found (no failed check) ends at the call whose result the spec does not allow."""
    bad = dict(MAP, result=-13)
    assert c_source.failing_event([ALLOC, bad, {"op": "free", "memory": 1}], "Fail") == 1


@pytest.mark.parametrize(
    ("events", "why"),
    [
        ([ALLOC, MAP], "not one of the checks"),
        (
            [
                MAP,
                {
                    "op": "check",
                    "rule": "GUARANTEE-map-success",
                    "kind": "success",
                    "passed": False,
                    "message": "m",
                    "call": 0,
                },
            ],
            "does not say how memory",
        ),
        (
            [
                ALLOC,
                dict(MAP, flags=1, next=[["placed", 0x5000]]),
                dict(FAILED, rule="GUARANTEE-placed-address", kind="placed_at", call=1, address=0x5000),
            ],
            "lies in no range",
        ),
        (
            [
                ALLOC,
                MAP,
                {
                    "op": "check",
                    "rule": "GUARANTEE-contents-preserved",
                    "kind": "bytes",
                    "passed": False,
                    "message": "m",
                    "read": None,
                    "expected": b"x",
                },
            ],
            "no read",
        ),
    ],
    ids=["no-failed-check", "memory-of-unknown-origin", "address-outside-every-range", "bytes-no-read-returned"],
)
def test_a_journal_that_cannot_be_replayed_says_why(events, why):
    """No reproducer is better than one that replays something else: each gap in the journal is named."""
    with pytest.raises(c_source.NoReproducer, match=why):
        c_source.generate(_journal(*events), "t", "Fail")


def test_without_a_compiler_the_report_gets_one_line(tmp_path, monkeypatch):
    """A machine without cc writes the reproducer and says, in one line, that it was not built or run."""
    monkeypatch.setattr(confirm.shutil, "which", lambda name: None)
    failed = {
        "op": "check",
        "rule": "GUARANTEE-map-alignment",
        "kind": "aligned",
        "passed": False,
        "message": "m",
        "call": 1,
        "alignment": 64,
    }
    info = confirm.reproduce(_journal(ALLOC, MAP, failed), "suites/a.py::t[x]", "Fail", tmp_path / "reproducers")
    assert info["reproduced"] is None and "no C compiler" in info["reason"] and (tmp_path / info["file"]).is_file()
    assert confirm.summary(info).startswith("no C compiler (cc) on this machine")


def test_an_event_the_replay_does_not_know_is_named():
    """A journal event with no C form gives no reproducer and says which event, never a traceback."""
    failed = {
        "op": "check",
        "rule": "GUARANTEE-map-alignment",
        "kind": "aligned",
        "passed": False,
        "message": "m",
        "call": 1,
        "alignment": 64,
    }
    with pytest.raises(c_source.NoReproducer, match=r"event 1 \(teleport\)"):
        c_source.generate(_journal(ALLOC, {"op": "teleport"}, MAP, failed), "t", "Fail")


def test_a_bug_of_the_generator_costs_only_the_reproducer(tmp_path, monkeypatch):
    """The generator raising something unforeseen leaves a reason in the report, not a lost run."""

    def broken(*args, **kwargs):
        raise KeyError("offset")

    monkeypatch.setattr(confirm, "generate", broken)
    failed = {
        "op": "check",
        "rule": "GUARANTEE-map-alignment",
        "kind": "aligned",
        "passed": False,
        "message": "m",
        "call": 1,
        "alignment": 64,
    }
    info = confirm.reproduce(_journal(ALLOC, MAP, failed), "suites/a.py::t[x]", "Fail", tmp_path)
    assert "generator failed, a bug of the suite (KeyError" in info["reason"]


def test_the_placed_map_set_up_is_replayed(tmp_path):
    """The memfd mapped twice (CTS's map_placed set-up) and the host's fill of it are replayed: the
    program builds and, where the recorded check failed but the replay's views are readable, says PASS."""
    size, page = 4 * 4096, 4096
    base, inspector = 0x7F0000000000, 0x7F0000100000
    events = [
        {"op": "memfd_views", "base": base, "inspector": inspector, "size": size},
        {"op": "fill_host", "address": base, "size": size, "value": 0xAB},
        {
            "op": "check",
            "rule": "GUARANTEE-placed-replaces-exactly",
            "kind": "readable",
            "passed": False,
            "message": "m",
            "start": base,
            "end": base + page,
        },
    ]
    source = c_source.generate(_journal(*events), "t", "Fail")
    assert "memfd_views(16384u, views0);" in source and "memset((void *)(uintptr_t)views0[0], 0xab, 16384u);" in source
    if confirm.shutil.which("cc") is None:
        pytest.skip("NotSupported: no C compiler (cc) to build the reproducer")
    path = tmp_path / "placed.c"
    path.write_text(source.replace("THIS_FILE", path.stem))
    exe = tmp_path / "placed"
    subprocess.run(["cc", *confirm.BUILD, str(exe), str(path), "-ldl"], check=True, capture_output=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "PASS" in run.stderr, run.stderr


# -- the prelude declares the Vulkan ABI itself: no headers needed to build a reproducer -------------------------------
STRUCT = re.compile(r"typedef struct (Vk\w+) \{(.*?)\} \1;", re.S)
MEMBER = re.compile(r"(\w+)(?:\[\d+\])?;")
CONSTANT = re.compile(r"^\s+(VK_[A-Z0-9_]+) = ", re.M)


RESULTS = {name: code for code, name in abi.RESULT_NAMES.items()}


def _declared() -> tuple[dict[str, list[str]], list[str]]:
    """The structures the prelude declares (name -> members) and its enum constants."""
    text = c_source.PRELUDE
    structs = {
        name: [m.group(1) for line in body.splitlines() if (m := MEMBER.search(line.split("/*")[0]))]
        for name, body in STRUCT.findall(text)
    }
    return structs, [c for c in CONSTANT.findall(text) if not c.endswith("_MAX_ENUM")]


def _reference_ffi(name: str):
    """The FFI that declares ``name`` from the registry: the ``vulkan`` package's, or the suite's own (abi.py) for the
    structures that package lacks, under their core names."""
    import vulkan  # heavy: opens the loader's cffi declarations; only this test needs them

    for ffi, spelled in ((vulkan.ffi, name), (abi.ffi, name), (abi.ffi, name.removesuffix("KHR"))):
        try:
            ffi.sizeof(spelled)
            return ffi, spelled
        except Exception:  # noqa: BLE001 - cffi raises its own errors for an unknown type name
            continue
    raise AssertionError(f"no reference declares {name}")


def _build_and_run(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess:
    if confirm.shutil.which("cc") is None:
        pytest.skip("NotSupported: no C compiler (cc)")
    path, exe = tmp_path / "probe.c", tmp_path / "probe"
    path.write_text(source)
    subprocess.run(["cc", *confirm.BUILD, str(exe), str(path), "-ldl"], check=True, capture_output=True, text=True)
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)


def test_the_prelude_needs_no_vulkan_headers_and_lays_out_the_abi_as_the_registry(tmp_path):
    """A reproducer builds with cc alone: no #include of the Vulkan headers, and every structure the prelude declares
    has the registry's size and member offsets, every constant its value (a wrong one would make the driver read
    garbage and the reproducer show a bug of its own)."""
    assert "#include <vulkan/" not in c_source.PRELUDE + pressure.PRESSURE
    structs, constants = _declared()
    assert len(structs) >= 20 and len(constants) >= 30, (len(structs), len(constants))
    lines = ["#include <stddef.h>", c_source.PRELUDE, "int main(void) {"]
    for name, members in structs.items():
        lines.append(f'    printf("size {name} %zu\\n", sizeof({name}));')
        lines += [f'    printf("offset {name}.{m} %zu\\n", offsetof({name}, {m}));' for m in members]
    lines += [f'    printf("value {c} %lld\\n", (long long){c});' for c in constants]
    lines += ["    return 0;", "}"]
    ran = _build_and_run(tmp_path, "\n".join(lines))
    included = subprocess.run(["cc", "-H", "-fsyntax-only", str(tmp_path / "probe.c")], capture_output=True, text=True)
    assert "vulkan" not in included.stderr.lower(), "the prelude includes a Vulkan header"
    import vulkan  # heavy: see _reference_ffi

    wrong = []
    for line in ran.stdout.splitlines():
        kind, what, value = line.split()
        if kind == "value":  # a VkResult as abi.py has it (the package's VK_ERROR_VALIDATION_FAILED lacks its sign)
            expected = RESULTS.get(what, getattr(vulkan, what, None))
            expected = getattr(abi, what.removesuffix("_KHR"), None) if expected is None else expected
        else:
            name, _, member = what.partition(".")
            ffi, spelled = _reference_ffi(name)
            if kind == "size":
                expected = ffi.sizeof(spelled)
            elif member in dict(ffi.typeof(spelled).fields):
                expected = ffi.offsetof(spelled, member)
            else:  # a tail declared as opaque words (VkPhysicalDeviceProperties' limits): the struct's size holds it
                continue
        if expected is None or int(value) != int(expected):
            wrong.append(f"{what}: prelude {value}, registry {expected}")
    assert not wrong, wrong


FAKE_MAP = """
static void *fake_ptr;
static VkResult fake_result;
static VkResult fake_map2(VkDevice d, const VkMemoryMapInfoKHR *info, void **pp) {
    (void)d, (void)info;
    *pp = fake_ptr;
    return fake_result;
}
int main(int argc, char **argv) {
    static const VkResult codes[] = {CODES};
    allowed = codes, allowed_count = sizeof codes / sizeof *codes;
    struct device d = {0};
    d.map2[0] = fake_map2;
    char *good = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *none = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 65536);
    const char *w = argc > 1 ? argv[1] : "";
    fake_result = VK_SUCCESS, fake_ptr = good;
    if (!strcmp(w, "map-failed")) fake_ptr = MAP_FAILED;
    if (!strcmp(w, "unmapped")) fake_ptr = gone;
    if (!strcmp(w, "inaccessible")) fake_ptr = none;
    if (!strcmp(w, "null")) fake_ptr = NULL;
    if (!strcmp(w, "incomplete")) fake_result = VK_INCOMPLETE;
    if (!strcmp(w, "unlisted")) fake_result = (VkResult)-1000069000; /* VK_ERROR_OUT_OF_POOL_MEMORY */
    if (!strcmp(w, "map-failed-code")) fake_result = VK_ERROR_MEMORY_MAP_FAILED, fake_ptr = NULL;
    void *p;
    map_under(&d, "a fake pressure", (VkDeviceMemory)(uintptr_t)1, 65536, &p, 0);
    printf("%s\\n", verdict);
    return verdict[0] ? 1 : 0;
}
"""


@pytest.mark.parametrize(
    ("observation", "rule"),
    [
        ("map-failed", "GUARANTEE-ppdata-written"),
        ("unmapped", "GUARANTEE-ppdata-written"),
        ("inaccessible", "GUARANTEE-ppdata-written"),
        ("null", "GUARANTEE-ppdata-written"),
        ("incomplete", "GUARANTEE-return-codes-under-pressure"),
        ("unlisted", "GUARANTEE-return-codes-under-pressure"),
        ("map-failed-code", None),
        ("readable", None),
    ],
)
def test_the_provocation_reproducers_check_fails_each_bad_observation(tmp_path, observation, rule):
    """The C check of a map under pressure (pressure.c's map_under) breaks GUARANTEE-ppdata-written for VK_SUCCESS with
    MAP_FAILED, NULL, an unmapped or an inaccessible pointer, and the Return Codes for a positive or unlisted code;
    an allowed error and a readable pointer break nothing.  The map is a fake: no driver is needed."""
    source = c_source.PRELUDE + pressure.PRESSURE + FAKE_MAP.replace("CODES", ", ".join(REGISTRY[pressure.ENTRY]))
    ran = _build_and_run(tmp_path, source, observation)
    assert ran.returncode == (1 if rule else 0) and ran.stdout.startswith(rule or "\n"), (ran.returncode, ran.stdout)


@pytest.mark.parametrize("scenario", sorted(pressure.SCENARIOS))
def test_a_provocation_reproducer_agrees_with_the_child_it_stands_for(tmp_path, scenario):
    """The reproducer of a provocation, made from the scene its child printed, exits 1 exactly when the child found a
    rule broken, three runs of three, on the installed driver (on lavapipe, rlimit-as: VK_SUCCESS with *ppData =
    MAP_FAILED).  A scenario that cannot run here (libfiu missing, no C compiler) is NotSupported."""
    if confirm.shutil.which("cc") is None:
        pytest.skip("NotSupported: no C compiler (cc) to build the reproducer")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    child = subprocess.run(
        [sys.executable, "-m", "vkmap_cts.fixtures.provoke.provocation", scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    said = [json.loads(x) for x in child.stdout.splitlines() if x.startswith("{")]
    scene = next((x["scene"] for x in said if "scene" in x), None)
    record = said[-1]
    if record.get("available") is False:
        pytest.skip(f"NotSupported: {record['summary']}")
    assert scene and scene["scenario"] == scenario, child.stdout[-2000:] + child.stderr[-2000:]
    broken = bool(record["disallowed"]) or not all((record.get("after") or {}).values())
    info = confirm.reproduce(None, f"t[{scenario}]", "Fail", tmp_path, "m", scene=scene)
    assert info.get("reproduced") is not None, info
    assert info["exits"] == [1 if broken else 0] * 3, (record, info["lines"])
