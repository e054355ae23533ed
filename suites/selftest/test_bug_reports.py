"""Self-tests of the bug reports (reports/bug_reports.py): one ``bug-reports/<test>.md`` a driver failure (Fail,
Crash, Timeout), none for the suite's own error, each with every part a vendor's tracker needs."""

from __future__ import annotations

from vkmap_cts.reports import bug_reports, model, render

NODEID = (
    "suites/return_codes/test_provocation.py::test_pressure_gives_an_allowed_code_and_leaves_a_sound_state[rlimit-as]"
)
FILE = "suites_return_codes_test_provocation.py_test_pressure_gives_an_allowed_code_and_leaves_a_sound_state_rlimit-as"
RERUN = f"ci/conformance --vk-device llvmpipe '{NODEID}'"
DRIVER = {
    "deviceName": "llvmpipe (LLVM 15.0.6, 256 bits)",
    "driverName": "llvmpipe",
    "driverInfo": "Mesa 25.0.7 (LLVM 15.0.6)",
    "driverIDName": "VK_DRIVER_ID_MESA_LLVMPIPE",
    "driverVersionText": "0.0.1",
    "deviceType": "CPU",
    "vendorID": "0x10005",
    "deviceID": "0x0000",
    "apiVersion": "1.4.305",
    "instanceApiVersion": "1.4.0",
    "loaderVersion": "1.3.239",
}
FAIL = {
    "nodeid": NODEID,
    "outcome": "Fail",
    "duration": 1.0,
    "rule": "GUARANTEE-ppdata-written",
    "message": "GUARANTEE-ppdata-written: vkMapMemory2KHR under RLIMIT_AS returned VK_SUCCESS with *ppData "
    "0xffffffffffffffff, but it is not mapped readable in the process",
    "sentence": "ppData is a pointer to a void* variable in which a host-accessible pointer to the beginning of the "
    "mapped range is returned.",
    "source": "Vulkan specification, chapters/memory.adoc",
    "details": "E   AssertionError: ...",
    "standalone": {
        "file": f"reproducers/{FILE}.c",
        "command": f"cd reproducers && cc -std=gnu11 -g -o {FILE} {FILE}.c -ldl && ./{FILE}",
        "runs": 3,
        "reproduced": 3,
        "exits": [1, 1, 1],
        "observed": "vkmap-repro: FAIL GUARANTEE-ppdata-written: ... 0xffffffffffffffff ...",
    },
    "rerun": RERUN,
}


def _doc(*tests: dict) -> dict:
    return {"run": {"suite": "vkmap-cts", "platform": "Linux-x86_64"}, "driver": DRIVER, "tests": list(tests)}


def test_a_failure_gets_a_bug_report_with_every_part(tmp_path):
    """Covers the report's parts: title (driver and rule), driver/device/versions, the rule and its sentence, expected
    and observed, the reproducer with its build-and-run command and its 3 of 3, the re-run command, the link."""
    passed = {"nodeid": "suites/a.py::t", "outcome": "Pass", "duration": 0.1}
    (path,) = bug_reports.write(_doc(FAIL, passed), tmp_path)
    assert path == tmp_path / "bug-reports" / f"{FILE}.md"
    text = path.read_text()
    title = text.splitlines()[0]
    assert title.startswith("# llvmpipe, Mesa 25.0.7") and "GUARANTEE-ppdata-written" in title, title
    for part in (
        "| Device | llvmpipe (LLVM 15.0.6, 256 bits), CPU, vendorID 0x10005",
        "| Driver version | 0.0.1 |",
        "device 1.4.305, instance 1.4.0, loader 1.3.239",
        "> ppData is a pointer to a void* variable",
        "- Expected: ",
        "- Observed: vkMapMemory2KHR under RLIMIT_AS returned VK_SUCCESS with *ppData 0xffffffffffffffff",
        f"`reproducers/{FILE}.c`",
        FAIL["standalone"]["command"],
        "3 times of 3 (exit statuses 1, 1, 1)",
        RERUN,
        "[report.html](../report.html)",
    ):
        assert part in text, part


def test_expected_and_observed_come_from_the_checks_own_words(tmp_path):
    """A message of the form "...: expected X; observed Y" gives each its line."""
    fail = dict(
        FAIL,
        rule="GUARANTEE-map-alignment",
        message="GUARANTEE-map-alignment: vkMapMemory2KHR: expected "
        "ppData - offset a multiple of 64; observed 0x1001 - 0",
    )
    text = bug_reports.render(_doc(fail), fail)
    assert "- Expected: ppData - offset a multiple of 64\n- Observed: 0x1001 - 0" in text
    assert "- Where: vkMapMemory2KHR" in text


def test_without_a_reproducer_or_rerun_the_report_says_why(tmp_path):
    """A failure without a standalone reproducer says why, in the reproducer's place and the re-run's."""
    reason = "no standalone reproducer: the journal holds no driver call for this test"
    fail = {k: v for k, v in FAIL.items() if k != "rerun"} | {"standalone": {"reason": reason}}
    text = bug_reports.render(_doc(fail), fail)
    assert f"No standalone C program for this failure: {reason}." in text and text.count(reason) == 2
    assert "```sh" not in text and "Run the test alone with the suite instead" in text


def test_crashes_and_timeouts_get_one_the_suites_errors_and_passes_none(tmp_path):
    """One report a Crash and a Timeout; an InternalError (the suite's error), a Flake or a Pass gets none; a run
    without failures writes none and no folder."""
    tests = [dict(FAIL, nodeid=f"suites/a.py::t[{o}]", outcome=o) for o in ("Crash", "Timeout", "InternalError")]
    tests += [dict(FAIL, nodeid="suites/a.py::t[flake]", outcome="Flake")]
    written = bug_reports.write(_doc(*tests), tmp_path)
    assert sorted(p.name for p in written) == ["suites_a.py_t_Crash.md", "suites_a.py_t_Timeout.md"]
    assert "(Crash)" in written[0].read_text().splitlines()[0]
    clean = tmp_path / "clean"
    clean.mkdir()
    assert bug_reports.write(_doc({"nodeid": "suites/a.py::t", "outcome": "Pass", "duration": 0.1}), clean) == []
    assert not (clean / "bug-reports").exists()


def test_the_report_writer_writes_them_with_the_other_outputs(tmp_path):
    """reports/render.py's write_all writes the bug reports beside junit.xml and report.html."""
    fail = dict(FAIL, covers=[], violates=[], vkresults={})
    run = {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h"}
    doc = {"schemaVersion": 1, "run": run, "driver": DRIVER, **model.summarise([fail])}
    written = render.write_all(doc, tmp_path)
    assert tmp_path / "bug-reports" / f"{FILE}.md" in written and (tmp_path / "report.html").is_file()
