"""Holds the offline render (Pulumi mocks) and a real deploy to the same resources, inputs,
Kubernetes names and stack outputs. ``disagreements`` lists every difference in one line each;
an empty list is agreement.

What a real deploy legitimately adds is left out, each by a rule with its source:
- the root stack and the engine's default providers (``…::default``, ``…::default_<version>``):
  the engine registers them (pulumi/pulumi v3.274.1 pkg/resource/deploy/deployment.go
  ``generateURN`` names them, the program never does);
- ``metadata.namespace: default`` in a namespaced object's inputs: the Kubernetes provider's
  ``Check`` writes the provider's default namespace into inputs that name none
  (pulumi/pulumi-kubernetes 4.25.0 provider/pkg/provider/provider.go ``Check``,
  ``newInputs.SetNamespace(k.defaultNamespace)``); the mocks record what the program sent;
- a provider's ``version``, ``kubeconfig`` and ``__internal`` inputs: the engine and the provider's
  ``CheckConfig`` fill them from the plugin and the environment (the SDK's plugin version, the
  machine's KUBECONFIG), not from the program;
- a secret's wire form: the engine keeps ``{sig, plaintext: <JSON>}`` where the mocks keep
  ``{sig, value}``; both are compared by their value;
- an empty string in a Kubernetes object's inputs (a smoke Job's ``SMOKE_TEXT: ""``): the
  provider's ``Check`` normalizes inputs through the typed object and back (pulumi-kubernetes
  4.25.0 provider/pkg/provider/provider.go ``normalizeInputs``, provider/pkg/clients/
  unstructured.go ``Normalize``), and a string field tagged ``omitempty`` in k8s.io/api (``EnvVar.
  Value``) leaves it out; Kubernetes reads a missing one as empty.
An auto-named Kubernetes object (the program set no ``metadata.name``) is named
``<logical name>-<suffix>`` by both, with different suffixes: the mocks' is a hash of the inputs,
the provider's random.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from infra.offline.mocks import SECRET_SIG
from infra.offline.program import Render, is_kubernetes_object

#: Provider inputs that come from the engine, the plugin or the environment (module docstring).
ENGINE_PROVIDER_INPUTS = frozenset({"version", "kubeconfig", "__internal"})


def _engine_made(resource: Mapping[str, Any]) -> bool:
    typ, urn = str(resource["type"]), str(resource["urn"])
    name = urn.rsplit("::", 1)[-1]
    return typ == "pulumi:pulumi:Stack" or (
        typ.startswith("pulumi:providers:") and (name == "default" or name.startswith("default_"))
    )


def plain(value: Any) -> Any:
    """``value`` with every secret replaced by its value, in either wire form."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            if "plaintext" in value:
                return plain(json.loads(value["plaintext"]))
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _differences(mock: Any, real: Any, path: str) -> list[str]:
    if isinstance(mock, dict) and isinstance(real, dict):
        out: list[str] = []
        for key in sorted(set(mock) | set(real)):
            where = f"{path}.{key}"
            if key not in real:
                out.append(f"{where}: only the mocks have it ({json.dumps(mock[key])[:60]})")
            elif key not in mock:
                out.append(f"{where}: only the real deploy has it ({json.dumps(real[key])[:60]})")
            else:
                out += _differences(mock[key], real[key], where)
        return out
    if isinstance(mock, list) and isinstance(real, list) and len(mock) == len(real):
        return [
            d
            for i, (m, r) in enumerate(zip(mock, real, strict=True))
            for d in _differences(m, r, f"{path}[{i}]")
        ]
    if mock != real:
        return [f"{path}: mocks {json.dumps(mock)[:60]}, real {json.dumps(real)[:60]}"]
    return []


def _real_inputs(typ: str, mock: Mapping[str, Any], real: Mapping[str, Any]) -> dict[str, Any]:
    inputs = dict(real)
    if typ.startswith("pulumi:providers:"):
        return {k: v for k, v in inputs.items() if k not in ENGINE_PROVIDER_INPUTS}
    metadata = inputs.get("metadata")
    if (
        isinstance(metadata, dict)
        and metadata.get("namespace") == "default"
        and "namespace" not in (mock.get("metadata") or {})
    ):
        inputs["metadata"] = {k: v for k, v in metadata.items() if k != "namespace"}
    return inputs


def _without_dropped_empties(mock: Any, real: Any) -> Any:
    """``mock`` less each ``""`` whose key ``real`` does not have (module docstring: the typed
    normalization leaves an ``omitempty`` string out)."""
    if isinstance(mock, dict) and isinstance(real, dict):
        return {
            k: _without_dropped_empties(v, real.get(k))
            for k, v in mock.items()
            if not (v == "" and k not in real)
        }
    if isinstance(mock, list) and isinstance(real, list) and len(mock) == len(real):
        return [_without_dropped_empties(m, r) for m, r in zip(mock, real, strict=True)]
    return mock


def _name_agrees(logical: str, auto_named: bool, mock: str | None, real: str | None) -> bool:
    if not auto_named:
        return mock == real
    pattern = re.compile(rf"{re.escape(logical)}-[0-9a-z]+")
    return bool(mock and real and pattern.fullmatch(mock) and pattern.fullmatch(real))


def disagreements(
    render: Render, state: Sequence[Mapping[str, Any]], outputs: Mapping[str, Any]
) -> list[str]:
    """Every difference between ``render`` and a real deploy of the same config: ``state`` is
    ``pulumi stack export --show-secrets``'s ``deployment.resources``, ``outputs`` ``pulumi stack
    output --json --show-secrets``."""
    found: list[str] = []
    real = {str(r["urn"]): r for r in state if not _engine_made(r)}
    mocked = {r.urn: r for r in render.resources}
    found += [f"{urn}: registered for real only" for urn in sorted(set(real) - set(mocked))]
    found += [f"{urn}: registered by the mocks only" for urn in sorted(set(mocked) - set(real))]
    for urn in sorted(set(real) & set(mocked)):
        mock, live = mocked[urn], real[urn]
        if mock.type != live["type"]:
            found.append(f"{urn}: type {mock.type} in the mocks, {live['type']} for real")
        mock_inputs = plain(mock.inputs)
        real_inputs = plain(_real_inputs(mock.type, mock_inputs, live.get("inputs") or {}))
        if is_kubernetes_object(mock):
            names = [(mock_inputs.get("metadata") or {}), (real_inputs.get("metadata") or {})]
            auto_named = "name" not in names[0]
            mock_name = (mock.outputs.get("metadata") or {}).get("name")
            real_name = ((live.get("outputs") or {}).get("metadata") or {}).get("name")
            if not _name_agrees(mock.name, auto_named, mock_name, real_name):
                found.append(f"{urn}: named {mock_name} by the mocks, {real_name} for real")
            if auto_named:
                names[1].pop("name", None)
            mock_inputs = _without_dropped_empties(mock_inputs, real_inputs)
        found += [f"{urn} inputs{d}" for d in _differences(mock_inputs, real_inputs, "")]
    found += [f"outputs{d}" for d in _differences(plain(render.outputs), plain(dict(outputs)), "")]
    return found
