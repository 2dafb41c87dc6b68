"""A Pulumi YAML program that registers a render's Kubernetes objects, one resource each, through
one explicit Kubernetes provider into one namespace: the objects the Python program registers,
driven by the real engine and the real provider while the Python language host cannot be built
(tools/README.md). Resource names are the render's file stems (``<kind>-<name>``), so a test can
find an object's resource in the engine's output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

NAMESPACE_KEY = "namespace"
#: Not "namespace": YAML programs resolve ``${name}`` to a config key before a resource.
NAMESPACE_RESOURCE = "target-namespace"


def type_token(obj: Mapping[str, Any]) -> str:
    """pulumi-kubernetes' token for an object: ``kubernetes:<group or core>/<version>:<Kind>``."""
    api = str(obj["apiVersion"])
    group, version = api.split("/") if "/" in api else ("core", api)
    return f"kubernetes:{group}/{version}:{obj['kind']}"


def resource_name(obj: Mapping[str, Any]) -> str:
    return f"{str(obj['kind']).lower()}-{obj['metadata']['name']}"


def program(name: str, objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "k8s": {
            "type": "pulumi:providers:kubernetes",
            "properties": {"namespace": f"${{{NAMESPACE_KEY}}}"},
        },
        NAMESPACE_RESOURCE: {
            "type": "kubernetes:core/v1:Namespace",
            "properties": {"metadata": {"name": f"${{{NAMESPACE_KEY}}}"}},
            "options": {"provider": "${k8s}"},
        },
    }
    for obj in objects:
        key = resource_name(obj)
        assert key not in resources, f"two objects named {key}"
        resources[key] = {
            "type": type_token(obj),
            "properties": {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
            "options": {"provider": "${k8s}", "dependsOn": [f"${{{NAMESPACE_RESOURCE}}}"]},
        }
    return {
        "name": name,
        "runtime": "yaml",
        "config": {NAMESPACE_KEY: {"type": "string"}},
        "resources": resources,
    }


def write(folder: Path, name: str, objects: Sequence[Mapping[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(program(name, objects), sort_keys=False))
    return folder
