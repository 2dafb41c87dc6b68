"""The Gateway API's own CRD schemas (vendor/gateway-api, the standard channel GKE serves) as
JSON Schemas that judge a rendered object the way the API server's schema checks do, strictly.

What the API server does with a custom resource, and what is done here (kubernetes/kubernetes
staging/src/k8s.io/apiextensions-apiserver, k8s.io/* v0.36.3 as tools/go.mod builds them):

* it decodes the object against the version's ``openAPIV3Schema`` and, with
  ``fieldValidation=Strict`` (what pulumi-kubernetes' server-side apply and tests/real ask for),
  refuses a field the schema does not declare: here every object schema with ``properties`` gets
  ``additionalProperties: false`` unless it says ``x-kubernetes-preserve-unknown-fields``;
* it validates types, enums, patterns, lengths, item counts, ``oneOf``/``anyOf``, and the
  ``ipv4``/``ipv6`` formats: here jsonschema with its format checker;
* ``metadata`` is ObjectMeta, validated by the server itself (the CRD says only ``type:
  object``): here the fields this program sets, strictly, and a DNS-subdomain name;
* it evaluates the CRD's CEL rules (``x-kubernetes-validations``): **not here**. A CEL
  interpreter is not something to fake; tests/real applies the same rendered objects to a real
  kube-apiserver with the CRDs installed, which evaluates every rule.

Defaults (``default``) are applied by the server before validation; every object this program
renders sets the defaulted fields it relies on (a Gateway address's ``type``, a backend's
``weight``), so nothing here depends on defaulting.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
VERSION = "v1.4.1"
VENDORED = ROOT / "vendor" / "gateway-api" / VERSION / "standard-install.yaml"
GROUP = "gateway.networking.k8s.io"

#: ObjectMeta as far as this program sets it; the server validates the rest of ObjectMeta itself.
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
        "namespace": {"type": "string", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


#: A structural schema's logical junctors: what they hold only restricts values; the fields an
#: object may have are the ``properties`` outside them.
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")


def strict(schema: Any, in_junctor: bool = False) -> Any:
    """``schema`` with unknown fields refused wherever the API server would prune or refuse them:
    every object schema with ``properties`` outside the logical junctors."""
    if isinstance(schema, list):
        return [strict(s, in_junctor) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {k: strict(v, in_junctor or k in _JUNCTORS) for k, v in schema.items()}
    if (
        not in_junctor
        and "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the strict schema, for every served version of every vendored CRD."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in yaml.safe_load_all(VENDORED.read_text()):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            schema = strict(version["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = _METADATA
            schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind"})
            found[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return found


def cel_rules(api_version: str, kind: str) -> int:
    """How many CEL rules the CRD of ``kind`` carries (evaluated by tests/real only)."""
    return sum(1 for _ in _walk(schemas()[(api_version, kind)], "x-kubernetes-validations"))


def _walk(node: Any, key: str) -> Iterator[Any]:
    if isinstance(node, Mapping):
        if key in node:
            yield from node[key]
        for value in node.values():
            yield from _walk(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, key)


def is_gateway_api(obj: Mapping[str, Any]) -> bool:
    """The object belongs to the Gateway API group."""
    return str(obj.get("apiVersion", "")).startswith(f"{GROUP}/")


def problems(obj: Mapping[str, Any]) -> list[str]:
    """Every way ``obj`` breaks its CRD's schema, one ``path: message`` each; a kind or version
    the vendored CRDs do not serve is a problem too."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key not in schemas():
        return [f"{key[1]} {key[0]} is not served by the vendored CRDs ({VERSION})"]
    validator = jsonschema.Draft7Validator(
        schemas()[key], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
    ]
