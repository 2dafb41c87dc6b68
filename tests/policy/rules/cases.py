"""Shared inputs for the rule tests: contexts of each stack kind, a container and a Deployment as
the program emits them (every rule passes them), a way to break one field, and one rule's
messages by name through the table."""

from __future__ import annotations

import copy
from typing import Any

from policy.rules import RULES
from policy.rules.model import Context, Options

DIGEST = "asia-northeast1-docker.pkg.dev/p/apps/imageview@sha256:" + "a" * 64
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"
AR_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"

DEV = Context(stack="dev", config={"registry": {"publicRead": False}})
DEV_PUBLIC = Context(stack="dev", config={"registry": {"publicRead": True}})
PROD = Context(stack="prod", config={"registry": {"publicRead": False}})
PROD_PUBLIC = Context(stack="prod", config={"registry": {"publicRead": True}})
LOCAL = Context(stack="local", config={"platform": "local"})
#: Resource options a caller cannot see (the rules that read none ignore them).
UNKNOWN = Options()


def container(**overrides: Any) -> dict[str, Any]:
    """A container as the program emits it: hardened, sized, probed, by digest, secrets by ref."""
    c: dict[str, Any] = {
        "name": "webserver-container",
        "image": DIGEST,
        "ports": [{"containerPort": 80, "name": "http-server"}],
        "env": [
            {
                "name": "PROJECT_ID",
                "valueFrom": {"configMapKeyRef": {"name": "projectid", "key": "project.id"}},
            },
            {"name": "SECRET_ID", "valueFrom": {"secretKeyRef": {"name": "apikey", "key": "id"}}},
            {"name": "SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "apikey", "key": "key"}}},
        ],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "250m", "memory": "128Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http-server"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http-server"}},
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    c.update(overrides)
    return c


def deployment(*containers: dict[str, Any], replicas: int = 3, **pod: Any) -> dict[str, Any]:
    """A Deployment's inputs around the given containers."""
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": list(containers) or [container()],
    }
    spec.update(pod)
    return {
        "metadata": {"name": "webserver-blue", "labels": {"app": "imageview", "color": "blue"}},
        "spec": {
            "replicas": replicas,
            "template": {"metadata": {"labels": {"app": "imageview"}}, "spec": spec},
        },
    }


def broken(path: str, value: Any) -> dict[str, Any]:
    """The good container with one dotted path set (None deletes it)."""
    c = copy.deepcopy(container())
    *parents, last = path.split(".")
    node = c
    for p in parents:
        node = node.setdefault(p, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return c


def run(
    rule: str,
    rtype: str,
    inputs: dict[str, Any],
    ctx: Context = DEV,
    options: Options = UNKNOWN,
) -> list[str]:
    """Messages of one rule (by name, through the table) on one resource."""
    (r,) = [r for r in RULES if r.name == rule]
    return r.resource_messages(rtype, inputs, options, ctx)
