"""Every Kubernetes object of every stack validates against the Kubernetes OpenAPI schemas in
strict mode (kubernetes-validate, which ships them offline): the oldest GKE minor still supported
and the newest schemas shipped. Every Gateway API object (a canary's Gateway and HTTPRoutes)
validates against the vendored CRDs' own schemas, strictly (tests/stacks/crds.py; their CEL rules
are checked by the real API server in tests/real/test_render.py). GKE's policy kinds
(HealthCheckPolicy, GCPBackendPolicy) have no published schema this project can vendor: they are
the only objects not validated here (:data:`NO_SCHEMA`)."""

from __future__ import annotations

import copy
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
from tests.stacks import crds

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


#: Kinds no schema judges here: GKE's networking.gke.io/v1 policies. Their CRDs are published
#: only in GoogleCloudPlatform/gke-gateway-api, which the Go module proxy does not serve (403), so
#: nothing with a version and licence could be vendored (tests/infra/components/test_route.py pins
#: what the program renders for them instead).
NO_SCHEMA = {
    ("networking.gke.io/v1", "HealthCheckPolicy"),
    ("networking.gke.io/v1", "GCPBackendPolicy"),
}


def validate(objects: list[dict[str, Any]], where: str) -> None:
    for obj in objects:
        if crds.is_gateway_api(obj):
            found = crds.problems(obj)
            if found:
                pytest.fail(f"{where} {obj['kind']}/{obj['metadata']['name']}: {found}")
    kubernetes = [
        o
        for o in objects
        if not crds.is_gateway_api(o) and (o["apiVersion"], o["kind"]) not in NO_SCHEMA
    ]
    for version in K8S_VERSIONS:
        for obj in kubernetes:
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


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_canary_stack_renders_gateway_api_objects_the_crds_accept(
    render_stack: Renderer, stack: str
) -> None:
    manifests = render_stack(stack).manifests()
    gateway_api = sorted(o["kind"] for o in manifests if crds.is_gateway_api(o))
    assert gateway_api == ["Gateway", "HTTPRoute"], gateway_api
    for obj in manifests:
        if crds.is_gateway_api(obj):
            assert crds.problems(obj) == [], obj["kind"]
    custom = {
        (o["apiVersion"], o["kind"])
        for o in manifests
        if "." in o["apiVersion"].split("/")[0] and not o["apiVersion"].endswith(".k8s.io/v1")
    }
    assert custom == NO_SCHEMA, "GKE's two policy kinds are the only objects no schema judges"


def _route(render_stack: Renderer) -> dict[str, Any]:
    return next(o for o in render_stack("dev").manifests() if o["kind"] == "HTTPRoute")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda o: o["spec"]["rules"][1].update(weightPercent=10), "weightPercent"),
        (lambda o: o["spec"]["rules"][1]["backendRefs"][0].update(weight=1_000_001), "1000000"),
        (
            lambda o: o["spec"]["rules"][0]["matches"][0]["headers"][0].update(type="Prefix"),
            "Prefix",
        ),
        (
            lambda o: o["spec"]["rules"][0]["matches"][0]["headers"][0].update(name="x canary"),
            "x canary",
        ),
        (lambda o: o["spec"]["parentRefs"][0].pop("name"), "'name' is a required property"),
        (lambda o: o["metadata"].update(generateName="x-"), "generateName"),
        (lambda o: o["spec"].update(hostnames=["203.0.113.7:80"]), "203.0.113.7:80"),
        (lambda o: o.update(apiVersion="gateway.networking.k8s.io/v1alpha2"), "not served"),
    ],
)
def test_the_crd_schemas_judge_strictly(render_stack: Renderer, change: Any, words: str) -> None:
    """The check above fails on a rendered HTTPRoute given a field, value or version its CRD
    does not take."""
    obj = copy.deepcopy(_route(render_stack))
    assert crds.problems(obj) == []
    change(obj)
    found = crds.problems(obj)
    assert found and any(words in p for p in found), found


def test_the_gateway_address_is_judged_by_its_type(render_stack: Renderer) -> None:
    """A NamedAddress names a reserved address; an IPAddress must be an IP (the CRD's ``oneOf``
    with the ipv4/ipv6 formats): the format checker is on."""
    gateway = next(o for o in render_stack("dev").manifests() if o["kind"] == "Gateway")
    assert gateway["spec"]["addresses"] == [{"type": "NamedAddress", "value": "dev-gateway"}]
    broken = copy.deepcopy(gateway)
    broken["spec"]["addresses"][0]["type"] = "IPAddress"
    assert any("is not valid under any of the given schemas" in p for p in crds.problems(broken))
    broken["spec"]["addresses"][0]["value"] = "203.0.113.90"
    assert crds.problems(broken) == []
    assert crds.cel_rules("gateway.networking.k8s.io/v1", "HTTPRoute") > 0
