"""The release workflow (.github/workflows/release.yml) cannot run on this
project's machines, so it is read: by zizmor (GitHub Actions security
audits, with its strictest persona), by check-jsonschema against the
workflow schema it carries, and here, for what it must do: build every
target of scripts/targets.py with scripts/build-wheel, run lesson 01 on a
runner of each platform, and publish with trusted publishing only after
that. scripts/setup-toolchains puts both linters in .venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

import targets  # scripts/targets.py
from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
BIN = Path(sys.prefix) / "bin"
# The runner for each target's lesson-01 job: the platform it is for.
RUNNERS = {
    "x86_64-unknown-linux-gnu": "ubuntu-24.04",
    "aarch64-unknown-linux-gnu": "ubuntu-24.04-arm",
    "x86_64-apple-darwin": "macos-15-intel",
    "aarch64-apple-darwin": "macos-15",
    "x86_64-pc-windows-gnu": "windows-2025",
}


def lint(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "NO_COLOR": "1"})


def test_zizmor_finds_nothing() -> None:
    done = lint([str(BIN / "zizmor"), "--offline", "--persona=auditor", str(WORKFLOW)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_the_workflow_fits_github_actions_schema() -> None:
    done = lint([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_builds_runs_and_then_publishes_every_wheel() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on == {"push": {"tags": ["v*"]}}
    jobs = flow["jobs"]

    build = "\n".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "scripts/targets.py list" in build and "scripts/build-wheel" in build

    runners = [entry["runner"] for entry in jobs["lesson-01"]["strategy"]["matrix"]["include"]]
    assert sorted(runners) == sorted(RUNNERS[t] for t in targets.TARGETS)
    lesson = "\n".join(step.get("run", "") for step in jobs["lesson-01"]["steps"])
    assert "scripts/notebooks.py check notebooks/01-embedded-kv-with-sled.ipynb" in lesson
    assert "--find-links dist sled-kernel" in lesson

    publish = jobs["publish"]
    assert publish["needs"] == "lesson-01" and jobs["lesson-01"]["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    assert not any("password" in step.get("with", {}) for step in publish["steps"]), "trusted publishing only"
