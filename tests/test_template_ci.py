"""The template's own CI workflow runs what `.ci/run` runs: the lint, then the same test command as the README."""

import yaml
from conftest import REPO


def test_the_template_workflow_lints_and_runs_every_test():
    workflow = yaml.safe_load((REPO / ".github/workflows/test.yml").read_text())
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    [job] = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[-2:] == ["make lint", "make test"]
    assert "make test" in (REPO / "README.md").read_text() and "make test" in (REPO / ".ci/run").read_text()
    assert job["env"]["CI"] == "true"  # so that a skipped test fails the run, as in .ci/run
