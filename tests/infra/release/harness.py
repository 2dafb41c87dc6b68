"""What the release tests share: a copy of the project whose stack files a test may edit, and
``pulumi up`` simulated offline (its outputs are what the next step reads)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.offline import mocks, program
from infra.paths import ROOT
from infra.release import rendering
from infra.release.changes import Change
from infra.release.deployed import Outputs
from infra.release.run import show
from infra.release.steps import Step

#: imageview's secret values, as `pulumi config set --secret` stores them.
SECURE = {"id": {"secure": "v1:AAAAid"}, "key": {"secure": "v1:AAAAkey"}}
#: The type of an image build.
IMAGE = "docker:index/image:Image"
#: An image reference by digest, as the outputs name a deployed color's image.
DIGEST = "gcr.io/hello-docker/imageview@sha256:" + "e" * 64


def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of Pulumi.yaml and the dev and imageview stack files (imageview with its secrets
    set, encrypted), which the tools then use in place of the repository's."""
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for stack in ("dev", "imageview"):
        shutil.copy(ROOT / f"stacks/Pulumi.{stack}.yaml", tmp_path / f"stacks/Pulumi.{stack}.yaml")
    iv = tmp_path / "stacks/Pulumi.imageview.yaml"
    iv.write_text(
        iv.read_text()
        + "  gke-bluegreen:secrets:\n    imageview:\n"
        + "".join(f"      {k}:\n        secure: {v['secure']}\n" for k, v in SECURE.items())
    )
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")
    return tmp_path


def up(project: Path, stack: str) -> Path:
    """`pulumi up` + `pulumi stack output --json > FILE`, offline: the file the outputs would be,
    with the digests a registry gives (:func:`deployed_outputs`), never the mocks' own."""
    file = project / f"outputs-{stack}.json"
    file.write_text(json.dumps(deployed_outputs(rendering.render(stack))))
    return file


def deployed_outputs(render: program.Render) -> Outputs:
    """The outputs of ``render`` as a real deploy returns them: each image the render built by a
    digest of the registry's, which differs from the one the mocks made up (made from it, so an
    unchanged build keeps its digest, as under `pulumi up`). Pinned images stay as pinned."""
    made_up = {r.outputs.get("repoDigest") for r in render.of_type(IMAGE)}
    outputs: Outputs = mocks.redact(render.outputs)
    for entry in (outputs.get("apps") or {}).values():
        images = entry.get("images") or {}
        for color, image in images.items():
            if image in made_up:
                repo = image.partition("@")[0]
                digest = hashlib.sha256(f"registry {image}".encode()).hexdigest()
                images[color] = f"{repo}@sha256:{digest}"
    return outputs


def outputs(file: Path) -> Outputs:
    data: Outputs = json.loads(file.read_text())
    return data


def deployed(app: str, color: str = "blue", image: str = DIGEST) -> Outputs:
    """Outputs of a stack where ``app`` serves ``color``, which runs ``image``."""
    return {"apps": {app: {"active_color": color, "images": {color: image}}}}


def apply(step: Step) -> list[Change]:
    """Shows, checks and writes a step; returns what it changes."""
    changes, refusals = show(step)
    assert not refusals, refusals
    step.file.write()
    return changes


def of(changes: list[Change]) -> set[tuple[str, str, str | None]]:
    """(how, kind, color) of every change, names aside (auto-named objects, Jobs)."""
    return {
        (f"{c.how} {c.seconds}s" if c.seconds else str(c.how), c.kind, c.color) for c in changes
    }


def app_node(project: Path, stack: str, app: str) -> dict[str, Any]:
    """``apps.<app>`` of the stack file as written."""
    document = yaml.safe_load((project / f"stacks/Pulumi.{stack}.yaml").read_text())
    node: dict[str, Any] = document["config"]["gke-bluegreen:apps"][app]
    return node
