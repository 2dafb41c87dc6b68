"""infra/render.py: the offline review tool, secrets never in plaintext, manifests valid for
today's Kubernetes (kubernetes-validate, strict)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from infra import mocks
from infra import render as rendering
from infra.config import ConfigError
from infra.render import Render, main, parse_path, stack_names

Renderer = Callable[..., Render]
SECRET_ID = "TOPSECRET-ID-4711"
SECRET_KEY = "TOPSECRET-KEY-0815"
#: Oldest GKE minor still supported as of this writing, and the newest schemas shipped.
K8S_VERSIONS = ["1.32.0", kubernetes_validate.utils.latest_version() + ".0"]


def test_cli_writes_resources_outputs_and_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["--stack", "imageview", "--out", str(out)]) == 0
    assert "rendered stack imageview" in capsys.readouterr().out
    doc = json.loads((out / "resources.json").read_text())
    assert doc["stack"] == "imageview" and doc["project"] == "gke-bluegreen"
    assert doc["config"]["secrets"] == {"imageview": {"id": "[secret]", "key": "[secret]"}}
    assert doc["config"]["apps"]["imageview"]["activeColor"] == "blue"
    types = {r["type"] for r in doc["resources"]}
    assert {
        "gcp:container/cluster:Cluster",
        "kubernetes:apps/v1:Deployment",
        "gke-bluegreen:infra:BlueGreenApp",
    } <= types
    for r in doc["resources"]:
        assert set(r) == {"urn", "type", "name", "parent", "provider", "dependencies", "inputs"}
    files = sorted(p.name for p in (out / "manifests").iterdir())
    assert "deployment-webserver-blue.yaml" in files and "service-webserver.yaml" in files
    assert json.loads((out / "outputs.json").read_text())["kubeconfig"] == "[secret]"


def test_cli_same_config_same_bytes(tmp_path: Path) -> None:
    for n in (1, 2):
        assert main(["--stack", "dev", "--out", str(tmp_path / str(n))]) == 0
    for name in ("resources.json", "outputs.json"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "apps.kubia.activeColor=red"], 'config apps.kubia.activeColor: "red"'),
        (["--set", "apps.kubia.replicas=-1"], "from 0 to 1000"),
        (["--set", "cluster.zone=mars-1a"], "config cluster.zone"),
        (["--set", "apps.ghost.activeColor=blue"], "config apps.ghost"),
        (["--set", "apps.kubia.activeColor"], "expected PATH=VALUE"),
        (["--set", "apps..x=1"], "--set path"),
    ],
)
def test_cli_bad_config_one_line_nothing_written(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous render")
    assert main(["--stack", "dev", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"], "nothing written"
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging folder left behind"


def test_cli_unknown_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "staging", "--out", str(tmp_path / "o")]) == 2
    assert "stacks are dev, imageview, local, prod" in capsys.readouterr().err


def test_bad_config_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[mocks.RecordingMonitor] = []
    install = mocks.install

    def spy(*args: Any, **kwargs: Any) -> mocks.RecordingMonitor:
        seen.append(install(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(mocks, "install", spy)
    config, keys = rendering.stack_config("dev", ["apps.kubia.containerPort=80"])
    with pytest.raises(ConfigError, match="containerPort"):
        rendering.run("dev", config, keys)
    assert seen and seen[0].registered == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("apps.kubia.activeColor", ("gke-bluegreen:apps", ["kubia", "activeColor"])),
        (
            'apps.iv.configMaps.projectid["project.id"]',
            ("gke-bluegreen:apps", ["iv", "configMaps", "projectid", "project.id"]),
        ),
        (
            "cluster.authorizedNetworks[0].cidrBlock",
            ("gke-bluegreen:cluster", ["authorizedNetworks", 0, "cidrBlock"]),
        ),
        ("gcp:project", ("gcp:project", [])),
    ],
)
def test_paths_parse_like_the_cli(path: str, expected: tuple[str, list[object]]) -> None:
    assert parse_path(path) == expected


def walk(value: Any, inside_secret: bool = False) -> list[tuple[Any, bool]]:
    """Every leaf with whether it sits inside a secret wrapper."""
    if mocks.is_secret(value):
        return walk(value.get("value"), True)
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in walk(v, inside_secret)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in walk(v, inside_secret)]
    return [(value, inside_secret)]


@pytest.mark.parametrize("stack", ["imageview", "prod"])
def test_secret_values_never_appear_in_plaintext(
    tmp_path: Path, stack: str, render_stack: Renderer
) -> None:
    secrets = [f"secrets.imageview.id={SECRET_ID}", f"secrets.imageview.key={SECRET_KEY}"]
    r = render_stack(stack, secrets=secrets)
    values = {SECRET_ID, SECRET_KEY, "mock-access-token"}
    seen_inside = set()
    for x in r.resources:
        for leaf, inside in walk(x.inputs):
            if isinstance(leaf, str) and any(v in leaf for v in values):
                assert inside, f"{x.type} {x.name}: secret in a plain input"
                seen_inside.add(leaf)
    assert {SECRET_ID, SECRET_KEY} <= seen_inside, "the Secret objects do carry the values"
    for leaf, inside in walk(r.outputs):
        if isinstance(leaf, str):
            assert not any(v in leaf for v in values) or inside, "secret in a plain output"
    out = tmp_path / stack
    args = [a for s in secrets for a in ("--set-secret", s)]
    assert main(["--stack", stack, *args, "--out", str(out)]) == 0
    for file in out.rglob("*"):
        if file.is_file():
            text = file.read_text()
            for v in values:
                assert v not in text, f"{file.relative_to(out)} holds a secret value"


def test_unset_secrets_get_secret_placeholders(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    (secret, *_) = r.of_type("kubernetes:core/v1:Secret")
    assert mocks.is_secret(secret.inputs["stringData"])
    assert mocks.unwrap(secret.inputs["stringData"]) == {
        "id": "placeholder-imageview-id",
        "key": "placeholder-imageview-key",
    }


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


def test_written_manifests_validate_strictly(tmp_path: Path) -> None:
    """The files as written (YAML round trip) for one stack."""
    assert main(["--stack", "imageview", "--out", str(tmp_path)]) == 0
    files = sorted((tmp_path / "manifests").glob("*.yaml"))
    assert len(files) == 9
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
    """The check above would catch the note's mistakes (an unknown field, a wrong type)."""
    obj = next(m for m in render_stack("imageview").manifests() if m["kind"] == "Deployment")
    obj["spec"]["template"]["spec"]["containers"][0]["port"] = 80
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(obj, K8S_VERSIONS[0], strict=True)
    obj2 = next(m for m in render_stack("imageview").manifests() if m["kind"] == "Service")
    obj2["spec"]["ports"][0]["port"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(obj2, K8S_VERSIONS[0], strict=True)
