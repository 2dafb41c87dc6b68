"""Every Kubernetes object of every stack validates against the Kubernetes OpenAPI schemas in
strict mode (kubernetes-validate, which ships them offline): the oldest GKE minor still supported
and the newest schemas shipped."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from infra.offline.program import Render
from infra.offline.render import write
from infra.offline.stackfile import stack_names

Renderer = Callable[..., Render]
K8S_VERSIONS = ["1.32.0", kubernetes_validate.utils.latest_version() + ".0"]


@pytest.fixture(scope="module", autouse=True)
def schemas_read_once() -> Iterator[None]:
    """kubernetes_validate.validate parses its schema files (the definitions alone are megabytes)
    on every call; the files do not change, so read each once. Validation itself is untouched."""
    with pytest.MonkeyPatch.context() as patch:
        read = functools.cache(kubernetes_validate.utils.schema_contents)
        patch.setattr(kubernetes_validate.utils, "schema_contents", read)
        yield


def validate(objects: list[dict[str, Any]], where: str) -> None:
    for version in K8S_VERSIONS:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(
                    f"{where} {obj['kind']}/{obj['metadata']['name']} ({version}): "
                    f"{'.'.join(map(str, error.path))}: {error.message}"
                )


def test_written_manifests_validate_strictly(tmp_path: Path, render_stack: Renderer) -> None:
    """The files as written (YAML round trip) for one stack."""
    out = tmp_path / "out"
    write(render_stack("imageview"), out)
    files = sorted((out / "manifests").glob("*.yaml"))
    assert len(files) == 15
    validate([yaml.safe_load(f.read_text()) for f in files], "imageview")


@pytest.mark.parametrize(
    ("stack", "sets"),
    [(s, ()) for s in stack_names()]
    + [
        ("dev", ("apps.kubia.activeColor=green", "apps.kubia.idleReplicas=0")),
        ("prod", ("registry.publicRead=true",)),
    ],
)
def test_every_manifest_validates_strictly(
    render_stack: Renderer, stack: str, sets: tuple[str, ...]
) -> None:
    manifests = render_stack(stack, sets).manifests()
    assert len(manifests) >= 6
    validate(manifests, stack)


def test_strict_validation_can_fail(render_stack: Renderer) -> None:
    """The check above fails on a rendered Deployment given a field its schema does not have."""
    obj = next(m for m in render_stack("imageview").manifests() if m["kind"] == "Deployment")
    obj["spec"]["template"]["spec"]["containers"][0]["port"] = 80
    with pytest.raises(pytest.fail.Exception):
        validate([obj], "imageview")
