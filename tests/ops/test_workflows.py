"""The ClusterFuzzLite GitHub workflows (.github/workflows/cflite_*.yml): PR fuzzing on pull
requests (code-change), batch fuzzing and corpus pruning on a schedule, each building with
`build_fuzzers@v1` and running with `run_fuzzers@v1`, for Python, as .clusterfuzzlite/ says."""
from __future__ import annotations

import re

import pytest
import yaml

BUILD = "google/clusterfuzzlite/actions/build_fuzzers@v1"
RUN = "google/clusterfuzzlite/actions/run_fuzzers@v1"
WORKFLOWS = {  # file → (trigger, run_fuzzers mode)
    "cflite_pr.yml": ("pull_request", "code-change"),
    "cflite_batch.yml": ("schedule", "batch"),
    "cflite_prune.yml": ("schedule", "prune"),
}


def load(repo_root, name: str) -> dict:
    data = yaml.safe_load((repo_root / ".github" / "workflows" / name).read_text())
    assert isinstance(data, dict), name
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses") == action]


def test_the_three_workflows_and_no_other_cflite_file(repo_root):
    found = {p.name for p in (repo_root / ".github" / "workflows").glob("cflite_*.y*ml")}
    assert found == set(WORKFLOWS)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflow_builds_then_runs_python_fuzzers(repo_root, name):
    trigger, mode = WORKFLOWS[name]
    wf = load(repo_root, name)
    assert wf["name"].startswith("ClusterFuzzLite")
    assert trigger in wf["on"]
    if trigger == "schedule":
        crons = [entry["cron"] for entry in wf["on"]["schedule"]]
        assert crons and all(len(c.split()) == 5 for c in crons)
    assert wf["permissions"] == "read-all"
    assert wf["jobs"]
    project = yaml.safe_load((repo_root / ".clusterfuzzlite" / "project.yaml").read_text())
    for job_name, job in wf["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest"
        uses = [s["uses"] for s in job["steps"] if "uses" in s]
        assert uses == [BUILD, RUN], f"{name}:{job_name}: build, then run"
        build, = steps_using(job, BUILD)
        run, = steps_using(job, RUN)
        for step in (build, run):
            assert step["with"]["language"] == "python" == project["language"]
        assert run["with"]["mode"] == mode
        assert isinstance(run["with"]["fuzz-seconds"], int) and run["with"]["fuzz-seconds"] > 0
        assert run["with"]["github-token"] == "${{ secrets.GITHUB_TOKEN }}"
        sanitizers = {s["with"].get("sanitizer", "address") for s in (build, run)}
        matrix = job.get("strategy", {}).get("matrix", {}).get("sanitizer")
        if matrix is not None:
            assert matrix == ["address"]  # Python targets: ASan only
            assert sanitizers == {"${{ matrix.sanitizer }}"}
        else:
            assert sanitizers == {"address"}


def test_pr_fuzzing_is_short_and_cancels_superseded_runs(repo_root):
    wf = load(repo_root, "cflite_pr.yml")
    job, = wf["jobs"].values()
    run, = steps_using(job, RUN)
    assert run["with"]["fuzz-seconds"] <= 600
    assert job["concurrency"]["cancel-in-progress"] is True
    assert re.search(r"github\.ref", job["concurrency"]["group"])


def test_batch_fuzzes_longer_than_a_pr(repo_root):
    def seconds(name):
        job, = load(repo_root, name)["jobs"].values()
        return steps_using(job, RUN)[0]["with"]["fuzz-seconds"]
    assert seconds("cflite_batch.yml") > seconds("cflite_pr.yml")
