"""The CI templates parse, run ci/conformance, publish the reports and the summary."""

from pathlib import Path

import pytest

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
    import json
    import subprocess

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
    assert proc.returncode == 1 and "NEW Fail: t2" in proc.stdout, proc.stdout + proc.stderr
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert merged["counts"] == {"Pass": 1, "Fail": 1} and len(merged["runs"]) == 1
    (tmp_path / "fails.txt").write_text("t2,Fail\n")
    proc = subprocess.run([*merge, "--baseline=fails.txt"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
