"""tests/real/agree.py without the real tier: a state built the way the engine and the Kubernetes
provider write it (agree.py's docstring) agrees with the render it came from, and each kind of
difference is found."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.offline.mocks import SECRET_SIG
from infra.offline.program import Render, is_kubernetes_object
from tests.real.agree import disagreements, plain

PINNED = [
    "apps.kubia.colors.blue.image=kubia:src-000000000000",
    "apps.kubia.colors.green.image=kubia:src-000000000000",
]


def as_deployed(render: Render) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The state and outputs a real deploy of ``render``'s config writes: the engine's root stack
    and default provider, the provider's defaulted namespace and random auto-name suffix, secrets
    in the engine's ``plaintext`` form."""

    def engine_secrets(value: Any) -> Any:
        if isinstance(value, dict):
            if SECRET_SIG in value:
                return {SECRET_SIG: value[SECRET_SIG], "plaintext": json.dumps(value["value"])}
            return {k: engine_secrets(v) for k, v in value.items()}
        if isinstance(value, list):
            return [engine_secrets(v) for v in value]
        return value

    prefix = render.resources[0].urn.split("::", 2)
    state: list[dict[str, Any]] = [
        {"urn": f"{prefix[0]}::{prefix[1]}::pulumi:pulumi:Stack::x", "type": "pulumi:pulumi:Stack"},
        {
            "urn": f"{prefix[0]}::{prefix[1]}::pulumi:providers:pulumi-python::default",
            "type": "pulumi:providers:pulumi-python",
        },
    ]
    for r in render.resources:
        inputs = engine_secrets(copy.deepcopy(r.inputs))
        outputs = copy.deepcopy(r.outputs)
        if is_kubernetes_object(r):
            metadata = inputs.setdefault("metadata", {})
            metadata.setdefault("namespace", "default")
            if "name" not in metadata:
                metadata["name"] = outputs["metadata"]["name"] = f"{r.name}-x7q2k9zz"
        if r.type.startswith("pulumi:providers:"):
            inputs |= {"version": "4.34.2", "kubeconfig": "/tmp/kubeconfig", "__internal": {}}
        state.append({"urn": r.urn, "type": r.type, "inputs": inputs, "outputs": outputs})
    return state, copy.deepcopy(render.outputs)


@pytest.fixture
def deployed(
    render_stack: Callable[..., Render],
) -> tuple[Render, list[dict[str, Any]], dict[str, Any]]:
    render = render_stack("local", PINNED)
    return (render, *as_deployed(render))


Deployed = tuple[Render, list[dict[str, Any]], dict[str, Any]]


def test_a_faithful_deploy_agrees(deployed: Deployed) -> None:
    render, state, outputs = deployed
    assert disagreements(render, state, outputs) == []


def _first(state: list[dict[str, Any]], typ: str) -> dict[str, Any]:
    return next(r for r in state if r["type"] == typ)


def test_a_resource_only_one_side_has_is_found(deployed: Deployed) -> None:
    render, state, outputs = deployed
    gone = _first(state, "kubernetes:apps/v1:Deployment")
    state.remove(gone)
    assert disagreements(render, state, outputs) == [f"{gone['urn']}: registered by the mocks only"]
    state.append({**gone, "urn": gone["urn"] + "-extra"})
    assert f"{gone['urn']}-extra: registered for real only" in disagreements(render, state, outputs)


def test_a_different_input_is_found(deployed: Deployed) -> None:
    render, state, outputs = deployed
    deployment = _first(state, "kubernetes:apps/v1:Deployment")
    deployment["inputs"]["spec"]["replicas"] = 7
    (found,) = disagreements(render, state, outputs)
    assert found.startswith(f"{deployment['urn']} inputs.spec.replicas: mocks "), found


def test_a_namespace_the_program_set_is_compared(deployed: Deployed) -> None:
    render, state, outputs = deployed
    named = next(r for r in state if r["type"] == "kubernetes:core/v1:Service")
    named["inputs"]["metadata"]["namespace"] = "kube-system"
    assert any(
        ".metadata.namespace: only the real deploy has it" in d
        for d in disagreements(render, state, outputs)
    )


def test_a_different_name_is_found(deployed: Deployed) -> None:
    render, state, outputs = deployed
    service = _first(state, "kubernetes:core/v1:Service")
    service["outputs"]["metadata"]["name"] = "somebody-else"
    assert any(
        "named " in d and "somebody-else for real" in d
        for d in disagreements(render, state, outputs)
    )


def test_a_different_secret_is_found(deployed: Deployed) -> None:
    render, state, outputs = deployed
    delay = next(r for r in state if "__provider" in r.get("inputs", {}))
    delay["inputs"]["__provider"]["plaintext"] = json.dumps("another provider")
    (found,) = disagreements(render, state, outputs)
    assert found.startswith(f"{delay['urn']} inputs.__provider: mocks "), found


def test_a_different_output_is_found(deployed: Deployed) -> None:
    render, state, outputs = deployed
    outputs["apps"]["kubia"]["url"] = "http://127.0.0.2"
    assert disagreements(render, state, outputs) == [
        'outputs.apps.kubia.url: mocks "", real "http://127.0.0.2"'
    ]


def test_an_empty_string_the_provider_leaves_out_agrees(deployed: Deployed) -> None:
    """The provider's normalization drops ``value: ""`` of an env var (agree.py's docstring): the
    smoke Jobs' ``SMOKE_TEXT`` when ``smoke.text`` is unset. A non-empty value dropped, or an
    empty one the real deploy holds otherwise, is still a difference."""
    render, state, outputs = deployed
    job = _first(state, "kubernetes:batch/v1:Job")
    env = job["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]
    (text,) = [e for e in env if e["name"] == "SMOKE_TEXT"]
    assert text == {"name": "SMOKE_TEXT", "value": ""}
    del text["value"]
    assert disagreements(render, state, outputs) == []
    (path,) = [e for e in env if e["name"] == "SMOKE_PATH"]
    del path["value"]
    (found,) = disagreements(render, state, outputs)
    assert found.endswith('.value: only the mocks have it ("/")'), found
    path["value"], text["value"] = "/", "x"
    (found,) = disagreements(render, state, outputs)
    assert found.endswith('.value: mocks "", real "x"'), found


def test_plain_reads_both_secret_forms() -> None:
    assert plain({SECRET_SIG: "x", "plaintext": '{"a": 1.0}'}) == {"a": 1}
    assert plain({SECRET_SIG: "x", "value": [2.0]}) == [2]
