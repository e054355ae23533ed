"""The CI templates parse, run ci/conformance, publish the reports and the summary."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_template_parses_and_gates_with_ci_conformance(name):
    text = (ROOT / "ci" / name).read_text()
    yaml.safe_load(text)
    assert "ci/conformance" in text and "reports/latest" in text and "summary.md" in text
