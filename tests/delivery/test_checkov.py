"""checkov over every stack's rendered Kubernetes manifests and every app Dockerfile.

Zero failed checks with the repo's skip list (.checkov.yaml); every skip carries a reason and is
still needed; and the scan demonstrably fails on a Dockerfile without USER and on a manifest that
runs as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.renders import ROOT, dockerfiles, render, require_renderable, stacks
from tests.prerequisites import unavailable

CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
CONFIG = ROOT / ".checkov.yaml"
SCAN_TIMEOUT_S = 600


def checkov_bin() -> Path:
    """The tool venv's checkov; missing is a skip on a dev machine, a failure in CI."""
    if not CHECKOV.exists():
        unavailable(".venv-tools/bin/checkov is missing: run scripts/install.sh")
    return CHECKOV


def scan(
    framework: str, targets: list[str], cwd: Path, config: Path = CONFIG
) -> list[dict[str, Any]]:
    """Failed checks of one checkov run (``-o json``); raises on a checkov error."""
    cmd = [
        str(checkov_bin()),
        "--config-file",
        str(config),
        "--framework",
        framework,
        "--quiet",
        "-o",
        "json",
        *targets,
    ]
    proc = subprocess.run(
        cmd,
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT_S,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    if proc.returncode not in (0, 1):
        raise AssertionError(f"checkov failed ({proc.returncode}): {proc.stderr[-2000:]}")
    failed: list[dict[str, Any]] = []
    decoder, text, pos = json.JSONDecoder(), proc.stdout, 0
    # One JSON document per scanned target (a list when several frameworks ran).
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        doc, pos = decoder.raw_decode(text, pos)
        for report in doc if isinstance(doc, list) else [doc]:
            if "results" in report:
                failed += report["results"]["failed_checks"]
    assert (proc.returncode == 1) == bool(failed), "checkov exit code and report disagree"
    return failed


def describe(failed: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})" for c in failed
    )


CONFIG_LOCAL = ROOT / ".checkov-local.yaml"


def platform(stack: str) -> str:
    """``gke`` or ``local``, from the render's config."""
    config = json.loads((render(stack) / "resources.json").read_text())["config"]
    return str(config.get("platform", "gke"))


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, list[str]]:
    """Config file → folder holding ``<stack>/`` copies of the manifests it scans.

    Cloud stacks go under .checkov.yaml, platform-local stacks under .checkov-local.yaml. The
    copies allow one recursive scan per config: checkov 3 repeats the first folder's report for
    every ``-d`` in its JSON output.
    """
    base = tmp_path_factory.mktemp("manifests")
    scans: dict[Path, list[str]] = {}
    for stack in stacks():
        config = CONFIG_LOCAL if platform(stack) == "local" else CONFIG
        shutil.copytree(render(stack) / "manifests", base / config.name / stack)
        scans.setdefault(base / config.name, []).append(stack)
    return {
        base / c.name: scans[base / c.name]
        for c in (CONFIG, CONFIG_LOCAL)
        if base / c.name in scans
    }


def config_of(folder: Path) -> Path:
    return ROOT / folder.name


def dockerfile_targets() -> list[str]:
    """``-f`` arguments for every app Dockerfile (absolute: scans run outside the repo root,
    where checkov would also read the repo's .checkov.yaml on its own)."""
    require_renderable()
    return [arg for f in dockerfiles() for arg in ("-f", str(f))]


def test_every_stacks_manifests_pass(manifests: dict[Path, list[str]]) -> None:
    assert sorted(s for group in manifests.values() for s in group) == stacks()
    for folder in manifests:
        failed = scan("kubernetes", ["-d", "."], folder, config_of(folder))
        assert failed == [], f"{config_of(folder).name}:\n{describe(failed)}"


def test_every_dockerfile_passes(tmp_path: Path) -> None:
    failed = scan("dockerfile", dockerfile_targets(), tmp_path)
    assert failed == [], describe(failed)


def test_dockerfile_without_user_fails(tmp_path: Path) -> None:
    # Proof that the Dockerfile scan can fail: a copy of a real Dockerfile with USER removed.
    source = dockerfiles()[0] if dockerfiles() else None
    text = source.read_text() if source else 'FROM python:3.12-slim\nUSER 10001\nCMD ["true"]\n'
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "".join(line for line in text.splitlines(keepends=True) if not line.startswith("USER "))
    )
    assert "USER " not in bad.read_text()
    assert scan("dockerfile", ["-f", "Dockerfile"], tmp_path) != []


def test_manifest_running_as_root_fails(tmp_path: Path) -> None:
    # Proof that the manifest scan can fail: a rendered Deployment made to run privileged as root.
    src = next(p for p in sorted((render("prod") / "manifests").glob("deployment-*.yaml")))
    obj = yaml.safe_load(src.read_text())
    pod = obj["spec"]["template"]["spec"]
    pod["securityContext"] = {"runAsUser": 0}
    for c in pod["containers"]:
        c["securityContext"] = {"privileged": True, "allowPrivilegeEscalation": True}
    (tmp_path / src.name).write_text(yaml.safe_dump(obj))
    assert scan("kubernetes", ["-d", "."], tmp_path) != []


SKIP_LINE = re.compile(r"^\s*-\s*(CKV2?_[A-Z0-9]+_\d+)\s*(?:#\s*(.*))?$")


def skip_list(config: Path) -> dict[str, str]:
    """Check id → reason, from the raw config file (the reason is the line's comment)."""
    lines = config.read_text().splitlines()
    start = lines.index("skip-check:")
    out = {}
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        m = SKIP_LINE.match(line)
        assert m, f"unexpected line in skip-check: {line!r}"
        out[m.group(1)] = (m.group(2) or "").strip()
    return out


@pytest.mark.parametrize("config", [CONFIG, CONFIG_LOCAL], ids=lambda p: p.name)
def test_skip_list_matches_yaml_and_every_skip_says_why(config: Path) -> None:
    skips = skip_list(config)
    assert sorted(skips) == sorted(yaml.safe_load(config.read_text())["skip-check"])
    for check, reason in skips.items():
        assert len(reason.split()) >= 8, f"{config.name} {check}: say why it does not apply"


def test_local_config_keeps_every_global_skip() -> None:
    assert skip_list(CONFIG).items() <= skip_list(CONFIG_LOCAL).items()


def without_skips(config: Path, tmp_path: Path) -> Path:
    doc = yaml.safe_load(config.read_text())
    doc.pop("skip-check")
    bare = tmp_path / f"bare-{config.name}"
    bare.write_text(yaml.safe_dump(doc))
    return bare


def test_every_skip_is_still_needed(manifests: dict[Path, list[str]], tmp_path: Path) -> None:
    # Without its skip list each skipped check must fail somewhere, or the skip must go.
    folders = {config_of(f): f for f in manifests}
    bare = without_skips(CONFIG, tmp_path)
    failed = {c["check_id"] for c in scan("kubernetes", ["-d", "."], folders[CONFIG], bare)}
    failed |= {c["check_id"] for c in scan("dockerfile", dockerfile_targets(), tmp_path, bare)}
    stale = sorted(set(skip_list(CONFIG)) - failed)
    assert stale == [], f".checkov.yaml skips that hide nothing any more: {stale}"
    if CONFIG_LOCAL in folders:
        bare = without_skips(CONFIG_LOCAL, tmp_path)
        failed = {
            c["check_id"] for c in scan("kubernetes", ["-d", "."], folders[CONFIG_LOCAL], bare)
        }
        extra = set(skip_list(CONFIG_LOCAL)) - set(skip_list(CONFIG))
        stale = sorted(extra - failed)
        assert stale == [], f".checkov-local.yaml skips that hide nothing any more: {stale}"


ARG_DEFAULT = re.compile(r"^ARG\s+(\w+)=(\S+)", re.MULTILINE)
FROM_ARG = re.compile(r"^FROM\s+\$\{?(\w+)\}?", re.MULTILINE)


def test_base_image_defaults_are_pinned() -> None:
    # What CKV_DOCKER_7 would check if checkov resolved `FROM ${BASE_IMAGE}`.
    require_renderable()
    for f in dockerfiles():
        text = f.read_text()
        defaults = dict(ARG_DEFAULT.findall(text))
        for arg in FROM_ARG.findall(text):
            image = defaults.get(arg, "")
            tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
            assert (tag and tag != "latest") or "@sha256:" in image, (
                f"{f.relative_to(ROOT)}: FROM ${{{arg}}} defaults to {image!r}; "
                "pin a version tag or digest"
            )
