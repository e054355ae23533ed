"""Self-tests of driver selection (--vk-device, --vk-api-version) and of set-up errors:
each bad input gives one line and its documented exit code, never a traceback."""

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from vkmap_cts.fixtures.plugins.environment import INTERNAL_ENV
from vkmap_cts.fixtures.vk import icds
from vkmap_cts.fixtures.vk.errors import BadOption, NoConformingDevice, NoDriver
from vkmap_cts.fixtures.vk.selection import parse_api_version, select

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def devices(physical_device):
    """Three records made from the real device: two with the extension, one without."""
    a = replace(physical_device, index=0, name="Alpha GPU", uuid="11" * 16)
    b = replace(physical_device, index=1, name="Beta GPU", uuid="22" * 16)
    c = replace(physical_device, index=2, name="Gamma iGPU", uuid="33" * 16, extensions=frozenset())
    return [c, a, b]


def test_default_is_first_device_with_the_extension(devices):
    assert select(devices, None).name == "Alpha GPU"


@pytest.mark.parametrize(
    "spec, name",
    [
        ("1", "Alpha GPU"),
        ("2", "Beta GPU"),
        ("beta", "Beta GPU"),
        ("22" * 16, "Beta GPU"),
        ("22222222-2222-2222-2222-222222222222", "Beta GPU"),
        ("igpu", "Gamma iGPU"),
    ],
)
def test_select_by_index_uuid_or_name(devices, spec, name):
    assert select(devices, spec).name == name


@pytest.mark.parametrize(
    "spec, error",
    [
        ("7", "only 3 devices"),
        ("44" * 16, "no device has that UUID"),
        ("zeta", "no device name contains it"),
        ("gpu", "several devices match"),
    ],
)
def test_unknown_device_is_a_bad_option(devices, spec, error):
    with pytest.raises(BadOption, match=error):
        select(devices, spec)


def test_no_device_and_no_extension(devices):
    with pytest.raises(NoDriver):
        select([], None)
    with pytest.raises(NoConformingDevice, match="no device exposes VK_KHR_map_memory2"):
        select([devices[0]], None)


@pytest.mark.parametrize("text, value", [("1.4", (1 << 22) | (4 << 12)), ("1.3.2", (1 << 22) | (3 << 12) | 2)])
def test_api_version(text, value):
    assert parse_api_version(text) == value


@pytest.mark.parametrize("text", ["x", "2.0", "1", "1.4.x"])
def test_bad_api_version(text):
    with pytest.raises(BadOption):
        parse_api_version(text)


def _run(*args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "suites/selftest/test_abi.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


# Every bad option and environment variable, with its exit code and the line it gives (a self-test
# below holds this list to every option the suite registers and every variable it reads).
BAD_INPUTS = [
    (["--vk-icd", "/nonexistent/icd.json"], None, 4, "--vk-icd /nonexistent/icd.json: no such file"),
    (["--vk-device", "no-such-gpu"], None, 4, "--vk-device 'no-such-gpu': no device name contains it"),
    (["--vk-api-version", "one"], None, 4, "--vk-api-version 'one'"),
    ([], {"VK_LOADER_DRIVERS_SELECT": "no-such-driver*"}, 6, "the Vulkan loader found no driver"),
    (["--baseline=/nonexistent/fails.txt"], None, 4, "--baseline /nonexistent/fails.txt: no such file"),
    (["--baseline=suites/selftest/test_selection.py"], None, 4, "expected 'test,Outcome'"),
    (["--update-baseline"], None, 4, "--update-baseline needs --baseline FILE"),
    (["--strict-baseline"], None, 4, "--strict-baseline needs --baseline FILE"),
    (["--allow-improvements"], None, 4, "--allow-improvements needs --baseline FILE"),
    (["--expected-in-full"], None, 4, "--expected-in-full needs --baseline FILE"),
    ([], {"VKMAP_CTS_EXPECTED_FAIL": "Fail"}, 4, "VKMAP_CTS_EXPECTED_FAIL=Fail: must be 1 or unset"),
    (["--report-dir=/proc/vkmap-cts"], None, 4, "--report-dir /proc/vkmap-cts: cannot write there"),
    (["--vk-test-timeout", "-1"], None, 4, "--vk-test-timeout -1: must be 0 or more"),
    (["--vk-run-timeout", "-5"], None, 4, "--vk-run-timeout -5: must be 0 or more"),
    (["--flake-reruns", "-1"], None, 4, "--flake-reruns -1: must be 0 or more"),
    (["--shard", "3/2"], None, 4, "--shard 3/2: expected I/N"),
    (["--caselist=/nonexistent/cases.txt"], None, 4, "--caselist /nonexistent/cases.txt: no such file"),
    (["--caselist=suites/selftest/doubles/empty-caselist.txt"], None, 4, "lists no test ID"),
    (["--fraction", "0"], None, 4, "--fraction 0: must be 1 or more"),
    (["--fraction=half"], None, 4, "--fraction half: not a whole number"),
    (["suites/selftest/test_typo.py"], None, 4, "file or directory not found: suites/selftest/test_typo.py"),
    (
        ["--baseline=/proc/vkmap-cts/fails.txt", "--update-baseline"],
        None,
        4,
        "--baseline /proc/vkmap-cts/fails.txt: cannot write there",
    ),
    (["--vuid", "NO-SUCH-RULE"], None, 4, "--vuid 'NO-SUCH-RULE': no rule or guarantee"),
    (
        ["--rules-json=/nonexistent/rules.json", "--collect-only"],
        None,
        4,
        "--rules-json /nonexistent/rules.json: its directory does not exist",
    ),
    (["--skips=/nonexistent/skips.txt"], None, 4, "--skips /nonexistent/skips.txt: no such file"),
    (["--flakes=suites/selftest/doubles/bad-regex.txt"], None, 4, "not a regular expression"),
    (["--hypothesis-profile", "fast"], None, 4, "--hypothesis-profile fast: not a profile of the suite"),
    ([], {"HYPOTHESIS_PROFILE": "fast"}, 4, "HYPOTHESIS_PROFILE=fast: not a profile of the suite"),
    ([], {"VK_DRIVER_FILES": "/nonexistent/icd.json"}, 4, "VK_DRIVER_FILES=/nonexistent/icd.json: no such file"),
    ([], {"VK_ICD_FILENAMES": "/nonexistent/icd.json"}, 4, "VK_ICD_FILENAMES=/nonexistent/icd.json: no such file"),
    ([], {"VKMAP_CTS_API_VERSION": "1.3"}, 4, "VKMAP_CTS_API_VERSION=1.3: not an apiVersion number"),
    (
        ["--vk-device", "all", "--report-dir=/proc/vkmap-cts"],
        None,
        4,
        "--report-dir /proc/vkmap-cts: cannot write there",
    ),
    (["--vk-call-timeout", "-1"], None, 4, "--vk-call-timeout -1: must be 0 or more"),
    (["--vk-hang-limit", "-1"], None, 4, "--vk-hang-limit -1: must be 0 or more"),
    (["--vk-hang-limit", "x"], None, 4, "--vk-hang-limit x: not a whole number"),
    (["--flake-reruns=1.5"], None, 4, "--flake-reruns 1.5: not a whole number"),
    (["--vk-test-timeout", "abc"], None, 4, "--vk-test-timeout abc: not a number"),
    (["--vk-call-timeout=nan"], None, 4, "--vk-call-timeout nan: must be 0 or more"),
    (["--vk-run-timeout", "soon"], None, 4, "--vk-run-timeout soon: not a number"),
    (["--vk-layer=/nonexistent/layer"], None, 4, "--vk-layer /nonexistent/layer: not a folder"),
    (["--run-label="], None, 4, "--run-label '': give the run a name"),
    ([], {"VKMAP_CTS": "yes"}, 4, "VKMAP_CTS=yes: must be 1 or unset"),
    ([], {"VKMAP_CTS_CONFORMANCE": "ci"}, 4, "VKMAP_CTS_CONFORMANCE=ci: must be 1 or unset"),
    ([], {"VKMAP_CTS_ISOLATED": "true"}, 4, "VKMAP_CTS_ISOLATED=true: must be 1 or unset"),
    ([], {"VKMAP_CTS_LAYER": "0"}, 4, "VKMAP_CTS_LAYER=0: must be 1 or unset"),
    ([], {"VKMAP_CTS_UNDER_FIU": "on"}, 4, "VKMAP_CTS_UNDER_FIU=on: must be 1 or unset"),
    ([], {"VKMAP_CTS_DEVICE_UUID": "gpu0"}, 4, "VKMAP_CTS_DEVICE_UUID=gpu0: must be 32 hex digits or unset"),
    (
        [],
        {"VKMAP_CTS_JOURNAL": "/proc/vkmap-cts/journal.jsonl"},
        4,
        "VKMAP_CTS_JOURNAL=/proc/vkmap-cts/journal.jsonl: must be a file it can write",
    ),
    (
        [],
        {"VKMAP_CTS_BREADCRUMBS": "/nonexistent/crumbs"},
        4,
        "VKMAP_CTS_BREADCRUMBS=/nonexistent/crumbs: must be a file it can write",
    ),
    (
        [],
        {"VKMAP_CTS_REPRODUCERS": "/etc/hostname/reproducers"},
        4,
        "VKMAP_CTS_REPRODUCERS=/etc/hostname/reproducers: must be a folder it can write",
    ),
]


@pytest.mark.parametrize("args, env, code, line", BAD_INPUTS)
def test_setup_errors_are_one_line_with_their_exit_code(args, env, code, line):
    """Each bad option or missing driver: one line naming it, its documented exit code, no traceback, no test run."""
    proc = _run(*args, env=env)
    assert proc.returncode == code, proc.stdout + proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert lines == [lines[0]] and lines[0].startswith("vkmap-cts: error: ") and line in lines[0], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "passed" not in proc.stdout and "verdict" not in proc.stdout + proc.stderr


def _source_nodes() -> list:
    """Every syntax node of the suite's plugins and helpers (fixtures/ and reports/)."""
    return [
        node
        for top in ("fixtures", "reports")
        for path in (ROOT / top).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
    ]


def _registered_options(nodes) -> set[str]:
    """The long options the suite's plugins register (every ``addoption("--...")``)."""
    calls = (n for n in nodes if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "addoption")
    return {c.args[0].value for c in calls if c.args and isinstance(c.args[0], ast.Constant)}


def _variables_read(nodes) -> set[str]:
    """The suite's own variables named in its sources, and the public ones docs/gate-and-reports.md lists."""
    own = {
        n.value
        for n in nodes
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(r"VKMAP_CTS(_[A-Z_]+)?", n.value)
    }
    return own | {"HYPOTHESIS_PROFILE", "VK_DRIVER_FILES", "VK_ICD_FILENAMES"}


def test_the_bad_inputs_walk_every_option_and_variable():
    """Each option the suite registers, and each environment variable it reads, has a bad value in BAD_INPUTS."""
    nodes = _source_nodes()
    given = {a.split("=", 1)[0] for args, _, _, _ in BAD_INPUTS for a in args if a.startswith("--")}
    assert _registered_options(nodes) - given == set()
    variables = _variables_read(nodes)
    assert variables - {name for _, env, _, _ in BAD_INPUTS for name in env or {}} == set()
    assert set(INTERNAL_ENV) <= variables


def _selected(vuid: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "--vuid", vuid, "suites"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_vuid_option_selects_the_tests_of_one_rule_on_both_sides():
    """--vuid with a core VUID selects that rule's boundary rows and tests, on both sides and both map2 entry points,
    and nothing else."""
    selected = _selected("VUID-VkMemoryMapInfo-offset-07959")
    assert any("test_drawn_violation[offset-07959:drawn:" in t for t in selected), selected
    rows = [t for t in selected if "test_boundary_row" in t]
    assert any(":valid:" in t for t in rows) and any(":invalid:" in t for t in rows), selected
    assert all("offset-07959" in t for t in rows), rows
    assert {"vkMapMemory2KHR", "vkMapMemory2"} <= {t.rstrip("]").rsplit("-", 1)[1] for t in rows}
    assert all("validation" in t or "operation" in t for t in selected) and len(selected) < 30


def test_vuid_option_with_a_khr_spelling_selects_the_khr_entry_point_only():
    """The KHR spelling of a rule selects the items that exercise it through vkMapMemory2KHR."""
    selected = _selected("VUID-VkMemoryMapInfoKHR-offset-07959")
    assert selected and all("vkMapMemory2KHR" in t for t in selected), selected


def _pytest(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_partial_run_says_so_and_claims_nothing_about_the_rest(tmp_path):
    """-k: the verdict line says how many of the file's tests ran, on which device, and that it is a partial run."""
    proc = _pytest("-q", "suites/validation/test_vkMapMemory2.py", "-k", "null", f"--report-dir={tmp_path}")
    assert proc.returncode == 0, proc.stdout[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("vkmap-cts: "))
    assert (
        line.startswith("vkmap-cts: partial run (-k null): Pass on ")
        and " on 4 of 12 tests; nothing is claimed about the 8 not run" in line
    ), line
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["run"]["scope"] == {
        **{"partial": "-k null", "ran": 4, "collected": 12, "notRun": 8},
        **{"selected": 4, "ending": "completed", "stoppedBy": None},  # it reached every test it selected
    }
    assert "partial: 4 of 12 tests" in (tmp_path / "summary.md").read_text()


def test_a_software_driver_is_named_as_one(tmp_path):
    """The verdict line names the device it judged and says when it is a software (CPU) driver."""
    proc = _pytest("-q", "suites/validation/test_vkMapMemory2.py", "-k", "null and KHR", f"--report-dir={tmp_path}")
    doc = json.loads((tmp_path / "results.json").read_text())
    name = doc["driver"]["deviceName"]
    assert f"Pass on {name}" in proc.stdout
    assert ("(a software driver, on the CPU)" in proc.stdout) == (doc["driver"]["deviceType"] == "CPU")


def test_a_self_test_run_judges_no_driver_and_writes_no_report(tmp_path):
    """Self-tests alone print no driver verdict and leave the report directory as it was."""
    (tmp_path / "results.json").write_text("an older run's report")
    proc = _pytest("-q", "suites/selftest/test_abi.py", f"--report-dir={tmp_path}")
    assert proc.returncode == 0
    assert "verdict" not in proc.stdout and "self-tests only" in proc.stdout
    assert (tmp_path / "results.json").read_text() == "an older run's report"


def test_a_run_never_leaves_an_older_report_in_its_place(tmp_path):
    """The outputs of an older run are gone when a new run starts, before its tests run."""
    for name in ("results.json", "junit.xml", "summary.md", "report.html", "results.csv", "failures.csv"):
        (tmp_path / name).write_text("old")
    (tmp_path / "conftest.py").write_text("")
    _pytest("-q", "suites/validation/test_vkMapMemory2.py", "-k", "null", f"--report-dir={tmp_path}", "--collect-only")
    _pytest("-q", "suites/validation/test_vkMapMemory2.py", "-k", "null and not KHR", f"--report-dir={tmp_path}")
    assert all(
        (tmp_path / n).read_text() != "old"
        for n in ("results.json", "junit.xml", "summary.md", "report.html", "results.csv", "failures.csv")
    )


def _broken_icd(folder) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "vendor_icd.json"
    manifest.write_text(
        json.dumps(
            {
                "file_format_version": "1.0.0",
                "ICD": {"library_path": "/nonexistent/libvulkan_vendor.so", "api_version": "1.4.0"},
            }
        )
    )
    return str(manifest)


def test_a_named_driver_that_does_not_load_stops_the_run(tmp_path):
    """--vk-icd (or VK_DRIVER_FILES) naming a driver that does not load: exit 6 with the loader's reason, never a
    verdict on another driver."""
    manifest = _broken_icd(tmp_path)
    for args, env in (([f"--vk-icd={manifest}"], None), ([], {"VK_DRIVER_FILES": manifest})):
        proc = _run(*args, env=env)
        assert proc.returncode == 6, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert proc.stderr.strip() == (
            f"vkmap-cts: error: the driver named by {manifest} does not load: /nonexistent/libvulkan_vendor.so: "
            "cannot open shared object file: No such file or directory"
        )
        assert "verdict" not in proc.stdout


def test_a_named_driver_that_does_not_load_beside_one_that_does_says_how_to_test_that_one(tmp_path):
    """VK_DRIVER_FILES naming a broken driver and a working one: exit 6 (the loader would judge the working one
    alone), one line naming which loaded and which did not, and the option that tests only the one that loads; that
    option then runs."""
    broken = _broken_icd(tmp_path)
    loading = [m for m in icds.survey() if m.problem is None]
    working = next((m.path for m in loading if "lvp" in (m.library or "")), loading[0].path)  # lavapipe where it is
    proc = _run(env={"VK_DRIVER_FILES": f"{broken}:{working}"})
    assert proc.returncode == 6, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stderr.strip() == (
        f"vkmap-cts: error: the driver named by {broken} does not load: /nonexistent/libvulkan_vendor.so: cannot open "
        f"shared object file: No such file or directory; {working} loaded, and the loader would go on with it alone: "
        f"fix the driver that did not load, or test only the one that did (--vk-icd={working})"
    )
    assert _run(f"--vk-icd={working}", env={"VK_DRIVER_FILES": f"{broken}:{working}"}).returncode == 0


def test_an_installed_driver_that_does_not_load_is_reported(tmp_path):
    """A broken driver installed beside the one judged: the header, the verdict line and every report name it and
    why."""
    manifest = _broken_icd(tmp_path / "share" / "vulkan" / "icd.d")
    env = dict(os.environ, XDG_DATA_DIRS=f"{tmp_path / 'share'}:/usr/local/share:/usr/share")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "suites/validation/test_vkMapMemory2.py",
            "-k",
            "null and KHR",
            f"--report-dir={tmp_path / 'out'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert (
        f"vulkan driver NOT LOADED: {manifest}" in proc.stdout
        and "1 installed driver(s) did not load: vendor_icd.json" in proc.stdout
    ), proc.stdout[-2000:]
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["driver"]["driverLoadFailures"][0]["manifest"] == manifest
    assert "a driver did not load" in (tmp_path / "out" / "summary.md").read_text()
    assert "A driver did not load" in (tmp_path / "out" / "report.html").read_text()


def test_the_ci_profile_has_no_explain_phase():
    """The ci profile shrinks a failure but skips hypothesis' explain phase, which traces every line and can take
    minutes."""
    from hypothesis import Phase, settings

    import vkmap_cts.fixtures.plugins.profiles  # noqa: F401 - registers the profiles

    phases = settings.get_profile("ci").phases
    assert (
        Phase.explain not in phases
        and Phase.shrink in phases
        and Phase.explain in settings.get_profile("thorough").phases
    )


def test_a_driver_that_loads_but_finds_no_device_stops_the_run_with_its_line():
    """A driver that loads but finds no device of its own on the machine (Mesa's gfxstream driver, for an emulator's
    GPU): the loader's vkEnumeratePhysicalDevices returns VK_ERROR_INITIALIZATION_FAILED, which is exit 6 with one
    line, as where no driver is installed, never the suite's own error."""
    manifest = "/usr/share/vulkan/icd.d/gfxstream_vk_icd.json"
    if not os.path.exists(manifest):
        pytest.skip(f"{manifest} is not installed (Debian: mesa-vulkan-drivers)")
    proc = _run(f"--vk-icd={manifest}")
    assert proc.returncode == 6, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stderr.strip() == (
        "vkmap-cts: error: the Vulkan loader found no physical device: vkEnumeratePhysicalDevices returned "
        "VK_ERROR_INITIALIZATION_FAILED (the drivers it loaded found no device of theirs on this machine; name another "
        "with --vk-icd)"
    )


def test_a_baseline_or_caselist_that_is_not_utf8_names_its_file(tmp_path):
    """A baseline (or caselist) saved in another encoding: one line naming the file and the byte, exit 4."""
    bad = tmp_path / "fails.txt"
    bad.write_bytes("suites/validation/test_vkMapMemory2.py::test_caf\xe9,Fail\n".encode("latin-1"))
    for option in ("--baseline", "--caselist"):
        proc = _run(f"{option}={bad}")
        assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr
        assert proc.stderr.strip().startswith(f"vkmap-cts: error: {option} {bad}: not UTF-8 text (byte "), proc.stderr


def _ci_environment() -> dict:
    """ci/setup's environment: this virtual environment (VKMAP_VENV), none of this run's own variables."""
    if not (Path(sys.prefix) / ".deps").is_file():
        pytest.skip(f"{sys.prefix} was not made by ci/setup (no .deps): ci/setup would install into a new one")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VKMAP_", "VK_", "HYPOTHESIS_"))}
    return {**env, "VKMAP_VENV": sys.prefix}


def test_the_setup_probe_of_a_manifest_that_is_not_json_is_one_line_and_exit_6(tmp_path):
    """--vk-icd naming a file that is not JSON: ci/setup's probe (and so ci/conformance) stops with the one line and
    exit 6 that a run gives, never a traceback."""
    manifest = tmp_path / "icd.json"
    manifest.write_text("not JSON")
    line = (
        f"vkmap-cts: error: the driver named by {manifest} does not load: the manifest cannot be read: "
        "Expecting value: line 1 column 1 (char 0)"
    )
    probe = [sys.executable, "-m", "vkmap_cts.fixtures.vk.probe", str(manifest)]
    for cmd in (probe, [str(ROOT / "ci" / "conformance"), f"--vk-icd={manifest}"], _run_args(f"--vk-icd={manifest}")):
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_ci_environment(), timeout=300)
        assert (proc.returncode, proc.stderr.strip()) == (6, line), cmd[:2] + [proc.stdout[-2000:], proc.stderr]


def _run_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "suites/selftest/test_abi.py", *args]


def test_a_typo_in_a_test_path_is_pytest_s_line_and_exit_4(tmp_path):
    """ci/conformance with a test path that is not there (it runs under xdist, where pytest would run no tests and
    exit 5 without a word): pytest's "file or directory not found" in one line, exit 4."""
    proc = subprocess.run(
        [str(ROOT / "ci" / "conformance"), "suites/validation/test_vkMapMemory2s.py", f"--report-dir={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_ci_environment(),
        timeout=300,
    )
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr
    typo = "suites/validation/test_vkMapMemory2s.py"
    # ci/setup's notes on optional tools it could not install (a test host without them) may come first.
    said = [line for line in proc.stderr.splitlines() if not line.startswith("vkmap-cts: note: ")]
    assert said == [f"vkmap-cts: error: file or directory not found: {typo}"], proc.stderr


def test_the_verdict_line_of_one_test_says_test_and_names_report_html(tmp_path):
    """One test ID (the re-run command a report prints): "the 1 test selected", never "1 tests", and the line names
    report.html, the page to open."""
    one = "suites/validation/test_vkMapMemory2.py::test_boundary_row[ppData-parameter:invalid:ppData = NULL-"
    one += "vkMapMemory2]"
    proc = _pytest("-q", one, f"--report-dir={tmp_path}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("vkmap-cts: partial run"))
    assert "1 tests" not in proc.stdout and "the 1 test selected" in line, line
    assert line.endswith(f"; report {tmp_path / 'report.html'}"), line
