"""The installed package: ``pip install .`` puts fixtures/, reports/ and suites/ under vkmap_cts/
alone, its pytest11 entry point stays out of other projects' runs, and its ``vkmap-cts``
command judges the driver as ci/conformance does."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package as pip installs it (without its dependencies, which this environment has), built
    from a copy of the checkout's sources: a build writes build/ and *.egg-info beside them, and an
    egg-info in the checkout would offer the entry point to the checkout's own runs."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    source = tmp_path_factory.mktemp("source")
    outputs = shutil.ignore_patterns("__pycache__", "*.pyc", "latest", "runs", "layer", "bench-run", "bench.json")
    for top in ("fixtures", "reports", "suites"):
        shutil.copytree(ROOT / top, source / top, ignore=outputs)
    for name in ("pyproject.toml", "README.md", "vkmap_cts.py"):
        shutil.copy2(ROOT / name, source / name)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, TMPDIR=str(build)),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return target


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VKMAP_CTS", "PYTEST_"))}
    env["PYTHONPATH"] = str(installed)
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_packages_are_the_folders():
    """pyproject.toml lists every package folder of fixtures/, reports/ and the conformance suites, under vkmap_cts."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {p.parent for top in ("fixtures", "reports") for p in (ROOT / top).rglob("*.py")}
    folders |= {p.parent for p in (ROOT / "suites").rglob("test_*.py") if "selftest" not in p.parts}
    assert listed == {"vkmap_cts." + ".".join(f.relative_to(ROOT).parts) for f in folders}


def test_installed_tree_has_no_top_level_fixtures_or_reports(installed):
    """Nothing of the suite stands at the top of site-packages but vkmap_cts and its metadata."""
    tops = {p.name for p in installed.iterdir()}
    assert {"fixtures", "reports", "suites", "conftest.py"}.isdisjoint(tops), tops
    assert (installed / "vkmap_cts" / "fixtures" / "rules" / "vuids.json").is_file()
    assert (installed / "vkmap_cts" / "reports" / "results.schema.json").is_file()


def test_the_plugin_stays_out_of_other_runs(installed, tmp_path):
    """Another project's pytest run in the same environment gets no device probe, header or report from the suite."""
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert True\n")
    proc = _run(installed, tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_other.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "vulkan device" not in proc.stdout and "vkmap-cts" not in proc.stdout + proc.stderr
    assert not (tmp_path / "reports").exists()


def test_the_command_judges_the_driver(installed, tmp_path):
    """`vkmap-cts` runs the installed conformance suites (here the tests of one rule) and writes the report in the
    current directory."""
    proc = _run(
        installed,
        tmp_path,
        "-c",
        "from vkmap_cts.fixtures.plugins.console import main; raise SystemExit(main())",
        "--vuid",
        "offset-07959",
        "-n",
        "1",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "vkmap-cts: partial run (--vuid offset-07959): Pass on llvmpipe" in proc.stdout, proc.stdout[-2000:]
    doc = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    ids = [t["nodeid"] for t in doc["tests"]]
    assert ids and all(i.startswith("suites/validation/") for i in ids), ids
    assert any("VUID-VkMemoryMapInfoKHR-offset-07959" in t["violates"] for t in doc["tests"])


def test_the_command_has_help(installed, tmp_path):
    """`vkmap-cts --help` says what it does and exits 0."""
    proc = _run(
        installed,
        tmp_path,
        "-c",
        "from vkmap_cts.fixtures.plugins.console import main; raise SystemExit(main())",
        "--help",
    )
    assert proc.returncode == 0 and "vkmap-cts" in proc.stdout
    for option in (
        "--vk-icd",
        "--vk-device",
        "--shard",
        "--caselist",
        "--fraction",
        "--baseline",
        "--skips",
        "--flakes",
        "--run-label",
        "--vk-layer",
    ):
        assert f"  {option}" in proc.stdout, (option, proc.stdout[-3000:])


def _results(folder: Path, outcome: str) -> Path:
    """A run's results.json with one test of ``outcome``."""
    folder.mkdir(parents=True)
    run = {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h", "label": "job"}
    test = {"nodeid": "suites/t.py::test_a", "outcome": outcome, "duration": 0.1, "covers": [], "violates": []}
    (folder / "results.json").write_text(json.dumps({"schemaVersion": 1, "run": run, "tests": [test]}))
    return folder


def test_the_command_merges_and_diffs_runs(installed, tmp_path):
    """`vkmap-cts merge` and `vkmap-cts diff`: the reports' merge and diff for a pip user, who has no ci/merge and no
    checkout to run `python -m vkmap_cts.reports` from."""
    old, new = _results(tmp_path / "old", "Pass"), _results(tmp_path / "new", "Fail")
    command = "from vkmap_cts.fixtures.plugins.console import main; raise SystemExit(main())"
    proc = _run(installed, tmp_path, "-c", command, "diff", str(old), str(new))
    assert proc.returncode == 1 and "regressions: 1 fail" in proc.stdout, proc.stdout + proc.stderr
    proc = _run(installed, tmp_path, "-c", command, "merge", str(old), "-o", str(tmp_path / "merged"))
    assert proc.returncode == 0 and (tmp_path / "merged" / "report.html").is_file(), proc.stdout + proc.stderr
    proc = _run(installed, tmp_path, "-c", command, "merge", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: vkmap-cts merge"), proc.stdout
