"""The CI templates parse, run ci/conformance, publish the reports and the summary; copied as they are, their jobs
pass on lavapipe (its known failure is the baseline they gate on), run here step by step in fresh copies of the
checkout."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vkmap_cts.suites.selftest.test_report_html import missing_links

ROOT = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_template_parses_shards_and_gates_on_the_merged_verdict(name):
    """Each template runs ci/conformance on shards (--shard), merges them with ci/merge, and publishes the summary."""
    text = (ROOT / "ci" / name).read_text()
    doc = yaml.safe_load(text)
    assert (
        "ci/conformance" in text
        and "--shard=" in text
        and "ci/merge" in text
        and "reports/latest" in text
        and "summary.md" in text
    )
    if name == "gitlab-ci.yml":
        assert doc[".vkmap-cts"]["parallel"] >= 2 and "CI_NODE_INDEX" in text and "CI_NODE_TOTAL" in text
    else:
        job = doc["jobs"]["conformance"]
        assert len(job["strategy"]["matrix"]["shard"]) == int(job["env"]["shards_total"]) >= 2


def test_ci_merge_combines_shards(tmp_path):
    """ci/merge, as the templates call it, merges shard reports given relative to the caller's directory."""
    for i, outcome in ((1, "Pass"), (2, "Fail")):
        d = tmp_path / f"shard-{i}"
        d.mkdir()
        doc = {
            "schemaVersion": 1,
            "run": {"suite": "vkmap-cts", "suiteVersion": "0", "start": "s", "end": "e", "host": "h", "label": "job"},
            "tests": [
                {
                    "nodeid": f"t{i}",
                    "outcome": outcome,
                    "duration": 0.1,
                    "covers": [],
                    "violates": [],
                    "vkresults": {},
                    "details": None,
                }
            ],
        }
        (d / "results.json").write_text(json.dumps(doc))
    merge = [str(ROOT / "ci" / "merge"), "shard-1", "shard-2", "-o", "merged", "--gate"]
    proc = subprocess.run(merge, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    new = [line for line in proc.stdout.splitlines() if "t2" in line and "NEW" in line]
    assert proc.returncode == 1 and new, proc.stdout + proc.stderr
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert merged["counts"] == {"Pass": 1, "Fail": 1} and len(merged["runs"]) == 1
    (tmp_path / "fails.txt").write_text("t2,Fail\n")
    proc = subprocess.run([*merge, "--baseline=fails.txt"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the templates' jobs, run as they are in a fresh copy of the checkout, on lavapipe ------------------------------

# A small selection that holds lavapipe's known failure (ci/lavapipe-fails.txt), through the variable the templates
# take more arguments from: the jobs run as written, in seconds instead of the whole suite's minute.
SMOKE = "suites/return_codes/test_provocation.py"
TOOLS = "apt-get"  # a step that installs what a fresh Debian image lacks: this machine has it


def _fresh_copy(dest: Path) -> Path:
    """What a fresh clone of the checkout holds: every file git tracks or does not ignore (the working tree's
    versions), without the virtual environment, the caches and the reports."""
    if shutil.which("git") is None:
        pytest.skip("the test host lacks git, which lists what a fresh clone holds")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _environment(**extra: str) -> dict:
    """The CI runner's environment: none of this run's own pytest or suite variables, the suite's virtual environment
    (ci/setup's VKMAP_VENV: it installs nothing where its packages are those of pyproject.toml)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VKMAP_", "VK_", "HYPOTHESIS_"))}
    return {**env, "VKMAP_VENV": sys.prefix, **extra}


def _shell(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """A step's script as the runners run it: bash, stopping at the first command that fails."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _github_value(text, context: dict[str, str]) -> str:
    """``${{ ... }}`` expressions of a GitHub step: names of ``context`` and quoted strings, joined by ``||`` (the first
    that is not empty); any other expression fails the test, so that the emulation keeps up with the template."""

    def one(expr: str) -> str:
        for alternative in expr.split("||"):
            alternative = alternative.strip()
            value = alternative[1:-1] if alternative[:1] == "'" else context[alternative]
            if value:
                return value
        return ""

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: one(m.group(1)), str(text))


def _github_job(doc: dict, name: str, cwd: Path, context: dict, artifacts: Path, env: dict) -> None:
    """Every step of a job: ``run`` scripts (but for the tools a fresh image lacks), the checkout (``cwd`` is one), and
    the artifacts uploaded to and downloaded from the folder ``artifacts``."""
    job = doc["jobs"][name]
    env = {**env, **{k: _github_value(v, context) for k, v in {**doc.get("env", {}), **job.get("env", {})}.items()}}
    for step in job["steps"]:
        uses = step.get("uses", "")
        given = {k: _github_value(v, context) for k, v in step.get("with", {}).items()} if "artifact" in uses else {}
        if uses.startswith("actions/upload-artifact"):
            shutil.copytree(cwd / given["path"], artifacts / given["name"])
        elif uses.startswith("actions/download-artifact"):
            shutil.copytree(artifacts, cwd / given["path"])
        elif "run" in step and TOOLS not in step["run"]:
            proc = _shell(_github_value(step["run"], context), cwd, env)
            assert proc.returncode == 0, f"{name}: {step.get('name', step['run'])}\n{proc.stdout[-4000:]}{proc.stderr}"


@pytest.mark.heavy
def test_the_github_workflow_as_it_is_passes_on_lavapipe(tmp_path):
    """The GitHub workflow copied as it is: each shard of the conformance job, then the verdict job that merges them
    and gates on the merged run, run step by step in fresh copies of the checkout on lavapipe; every step exits 0
    (lavapipe's known failure is in the baseline the workflow gates on), and the merged report is whole."""
    doc = yaml.safe_load((ROOT / "ci" / "github-actions.yml").read_text())
    artifacts, summary = tmp_path / "artifacts", tmp_path / "step-summary.md"
    env = _environment(GITHUB_STEP_SUMMARY=str(summary))
    shards = doc["jobs"]["conformance"]["strategy"]["matrix"]["shard"]
    for runner in doc["jobs"]["conformance"]["strategy"]["matrix"]["runner"]:
        for shard in shards:
            context = {"matrix.runner": runner, "matrix.shard": str(shard), "github.sha": "selftest"}
            context |= {"vars.VKMAP_CTS_BASELINE": "", "vars.VKMAP_CTS_ARGS": SMOKE}
            copy = _fresh_copy(tmp_path / f"{runner}-{shard}")
            _github_job(doc, "conformance", copy, context, artifacts, env)
    verdict = _fresh_copy(tmp_path / "verdict")
    _github_job(doc, "verdict", verdict, context, artifacts, env)
    merged = json.loads((verdict / "reports" / "latest" / "results.json").read_text())
    assert merged["gate"]["verdict"] == "Pass" and merged["run"]["exitStatus"] == 0 and len(merged["runs"]) == 1
    assert any(t["outcome"] == "Fail" for t in merged["tests"]), "lavapipe's known failure ran, expected"
    assert "gate **Pass**" in summary.read_text()
    assert missing_links(verdict / "reports" / "latest") == []


def _gitlab_job(doc: dict, name: str) -> dict:
    """A job with what it ``extends`` merged in (hashes merged, the job's own keys winning)."""
    job = dict(doc[name])
    base = doc.get(job.pop("extends", None) or "", {})
    return {**base, **job, "variables": {**base.get("variables", {}), **job.get("variables", {})}}


def _gitlab_run(job: dict, cwd: Path, env: dict) -> None:
    """A job's before_script (but for the tools a fresh image lacks) and script in one shell, as the runner runs them;
    after_script in a shell of its own."""
    env = {**env, **{k: str(v) for k, v in job.get("variables", {}).items()}}
    script = [line for line in job.get("before_script", []) if TOOLS not in line] + job["script"]
    proc = _shell("\n".join(script), cwd, env)
    assert proc.returncode == 0, f"{env.get('CI_JOB_NAME')}\n{proc.stdout[-4000:]}{proc.stderr}"
    _shell("\n".join(job.get("after_script", [])), cwd, env)


@pytest.mark.heavy
def test_the_gitlab_pipeline_as_it_is_passes_on_lavapipe(tmp_path):
    """The GitLab jobs copied as they are: each parallel shard of the lavapipe job (named 'JOB I/N', as GitLab names
    them), then the merge job with their artifacts, in fresh copies of the checkout on lavapipe; every job exits 0 and
    the shards merge into one run that the gate passes."""
    doc = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text())
    shard_job, merge_job = _gitlab_job(doc, "vkmap-cts:lavapipe"), _gitlab_job(doc, "vkmap-cts:merge")
    merged_copy = _fresh_copy(tmp_path / "merge")
    total = shard_job["parallel"]
    for index in range(1, total + 1):
        name = f"vkmap-cts:lavapipe {index}/{total}"
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        env = _environment(CI_NODE_INDEX=str(index), CI_NODE_TOTAL=str(total), CI_JOB_NAME=name, CI_JOB_NAME_SLUG=slug)
        env |= {"CI_COMMIT_SHORT_SHA": "selftest", "VKMAP_CTS_ARGS": SMOKE}
        copy = _fresh_copy(tmp_path / f"shard-{index}")
        _gitlab_run({**shard_job, "variables": {**shard_job["variables"], "VKMAP_CTS_ARGS": SMOKE}}, copy, env)
        for pattern in shard_job["artifacts"]["paths"]:  # the needs: artifacts, restored at the same paths
            for found in copy.glob(pattern.rstrip("/")):
                shutil.copytree(found, merged_copy / found.relative_to(copy))
    _gitlab_run(merge_job, merged_copy, _environment(CI_JOB_NAME="vkmap-cts:merge", CI_COMMIT_SHORT_SHA="selftest"))
    merged = json.loads((merged_copy / "reports" / "latest" / "results.json").read_text())
    assert merged["gate"]["verdict"] == "Pass" and len(merged["runs"]) == 1, merged["runs"]
    assert any(t["outcome"] == "Fail" for t in merged["tests"]), "lavapipe's known failure ran, expected"
    assert missing_links(merged_copy / "reports" / "latest") == []
