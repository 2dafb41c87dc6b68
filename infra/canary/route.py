"""Waiting until an HTTPRoute's weights are in effect, as far as the Kubernetes API can tell.

Gateway API (sigs.k8s.io/gateway-api v1.4.1, ``apis/v1/shared_types.go``) puts a route's status
per parent: ``status.parents[]`` is a ``RouteParentStatus`` per Gateway, each with its own
``conditions`` (``metav1.Condition``, each with its own ``observedGeneration``); ``Accepted``
says the Gateway took the route, ``ResolvedRefs`` that every backendRef resolved. Implementations
"MUST always update the observedGeneration field of the Condition to the metadata.generation" of
the object they processed. A condition whose ``observedGeneration`` is below the route's current
``metadata.generation`` therefore says nothing about the spec now in the API server. So a weight
is in effect, as far as the API can tell, when the route's spec has the expected weights and, for
every parentRef of the spec, a parent status whose conditions are all of the current generation
(the conformance suite's rule, ``conformance/utils/kubernetes/helpers.go``
``ConditionsHaveLatestObservedGeneration``) with ``Accepted`` and ``ResolvedRefs`` True.

Why the release tool waits itself instead of ``pulumi.com/waitFor`` on the route
(pulumi/pulumi-kubernetes at 94977969d641, the provider this project builds is the same code at
v4.0.0-20260115033456-f47bc2d6f199): ``condition=Accepted`` runs ``checkCondition``
(``provider/pkg/await/condition/kubectl.go``, vendored from kubectl), which reads only the
top-level ``status.conditions`` — an HTTPRoute has none, so it waits forever ("Has no
.status.conditions"). ``jsonpath=`` (``provider/pkg/await/condition/jsonpath.go``) checks the
generation only against a top-level ``status.observedGeneration``, which an HTTPRoute does not
have, so it accepts a stale status; and its ``Matches`` (``provider/pkg/jsonpath/jsonpath.go``)
compares only the first value a path selects, so ``{.status.parents[*].conditions[?(@.type==
"Accepted")].status}=True`` judges the first parent alone.

That the load balancer forwards as weighted is a separate question (GKE programs it after the
status says Accepted): :mod:`infra.canary.split` answers it with requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from infra.canary.errors import CanaryError, RouteNotReady

GROUP, VERSION, PLURAL = "gateway.networking.k8s.io", "v1", "httproutes"
#: The conditions every parent must report True for the current generation.
REQUIRED = ("Accepted", "ResolvedRefs")
#: How long one API request may take, in seconds.
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Kubeconfig:
    """How to reach the cluster: a kubeconfig (the stack's ``kubeconfig`` output, a secret:
    ``pulumi stack output kubeconfig --show-secrets``) and the context to use (``None``: its
    ``current-context``; the program's kubeconfig names one context, the cluster's name)."""

    text: str
    context: str | None = None

    @classmethod
    def from_file(cls, path: Path, context: str | None = None) -> Kubeconfig:
        try:
            return cls(path.read_text(), context)
        except (OSError, UnicodeDecodeError) as err:
            raise CanaryError(f"kubeconfig {path}: cannot read it ({err})") from None

    def client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` for this kubeconfig (its exec plugin, e.g.
        ``gke-gcloud-auth-plugin``, runs when a request needs a token)."""
        try:
            data = yaml.safe_load(self.text)
        except yaml.YAMLError as err:
            raise CanaryError(f"the kubeconfig is not YAML ({err})") from None
        if not isinstance(data, dict) or not data.get("contexts"):
            hint = (
                " (a hidden secret: read it with --show-secrets)"
                if self.text.strip() == ("[secret]")
                else ""
            )
            raise CanaryError(f"the kubeconfig has no contexts{hint}")
        try:
            api = config.new_client_from_config_dict(  # type: ignore[no-untyped-call]
                data, context=self.context, persist_config=False
            )
        except (ConfigException, ValueError, KeyError, TypeError) as err:
            raise CanaryError(f"the kubeconfig cannot be used: {err}") from None
        # One attempt per request: the wait loop retries, and says why when it gives up.
        api.configuration.retries = 0
        return api


@dataclass(frozen=True)
class RouteState:
    """What one read of the route showed."""

    generation: int
    weights: dict[str, int]
    """The weight of each backendRef of the weighted rule, by Service name."""
    problems: tuple[str, ...]
    """Why the weights are not in effect yet; empty when they are."""


def _weight(ref: Mapping[str, Any]) -> int:
    # Gateway API: "If unspecified, weight defaults to 1" (httproute_types.go BackendRef.Weight).
    w = ref.get("weight", 1)
    return w if isinstance(w, int) and not isinstance(w, bool) else -1


def weighted_rule(route: Mapping[str, Any], services: set[str]) -> dict[str, int] | None:
    """The weights of the rule that sends to all of ``services``, by Service name; ``None`` when
    no rule (or more than one) does."""
    found = []
    for rule in (route.get("spec") or {}).get("rules") or []:
        refs = [r for r in rule.get("backendRefs") or [] if isinstance(r, dict)]
        names = {r.get("name") for r in refs if r.get("kind", "Service") == "Service"}
        if services <= names:
            found.append({str(r["name"]): _weight(r) for r in refs if r.get("name") in services})
    return found[0] if len(found) == 1 else None


def _same_parent(ref: Mapping[str, Any], seen: Mapping[str, Any], namespace: str) -> bool:
    """Whether a status ``parentRef`` is the spec's ``ref`` (defaults as the API sets them)."""

    def key(p: Mapping[str, Any]) -> tuple[object, ...]:
        return (
            p.get("group", GROUP),
            p.get("kind", "Gateway"),
            p.get("namespace", namespace),
            p.get("name"),
            p.get("sectionName"),
            p.get("port"),
        )

    return key(ref) == key(seen)


def _parent_name(ref: Mapping[str, Any], namespace: str) -> str:
    name = f"{ref.get('kind', 'Gateway')} {ref.get('namespace', namespace)}/{ref.get('name')}"
    extra = [f"{k} {ref[k]}" for k in ("sectionName", "port") if ref.get(k) is not None]
    return name + (f" ({', '.join(extra)})" if extra else "")


def route_state(route: Mapping[str, Any], expected: Mapping[str, int]) -> RouteState:
    """Whether ``route`` (an HTTPRoute as the API returns it) has the ``expected`` weights (by
    Service name) in its spec, and every parent reports them taken for its current generation."""
    meta = route.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    generation = meta.get("generation")
    if not isinstance(generation, int):
        return RouteState(0, {}, ("the route has no metadata.generation",))
    problems: list[str] = []
    weights = weighted_rule(route, set(expected))
    if weights is None:
        problems.append(
            f"no single rule of the route sends to {' and '.join(sorted(expected))}: not the "
            "route this app's canary writes"
        )
    elif weights != dict(expected):
        problems.append(
            f"the route's spec weights are {_weights(weights)}, expected {_weights(expected)}: "
            "the update is not in the API server (did `pulumi up` apply it?)"
        )
    refs = [r for r in (route.get("spec") or {}).get("parentRefs") or [] if isinstance(r, dict)]
    parents = [p for p in (route.get("status") or {}).get("parents") or [] if isinstance(p, dict)]
    if not refs:
        problems.append("the route has no parentRefs: it is attached to no Gateway")
    for ref in refs:
        name = _parent_name(ref, namespace)
        status = [p for p in parents if _same_parent(ref, p.get("parentRef") or {}, namespace)]
        if not status:
            problems.append(f"{name}: no status yet (its controller has not seen the route)")
            continue
        for parent in status:
            problems.extend(_parent_problems(parent, name, generation))
    return RouteState(generation, weights or {}, tuple(problems))


def _parent_problems(parent: Mapping[str, Any], name: str, generation: int) -> list[str]:
    who = f"{name} (controller {parent.get('controllerName', '?')})"
    conditions = [c for c in parent.get("conditions") or [] if isinstance(c, dict)]
    problems = []
    stale = [
        f"{c.get('type')} observed generation {c.get('observedGeneration')}"
        for c in conditions
        if c.get("observedGeneration") != generation
    ]
    if stale:
        problems.append(
            f"{who}: {', '.join(stale)}, the route is at generation {generation} (the "
            "controller has not processed the change yet)"
        )
    by_type = {c.get("type"): c for c in conditions}
    for wanted in REQUIRED:
        c = by_type.get(wanted)
        if c is None:
            problems.append(f"{who}: no {wanted} condition")
        elif c.get("status") != "True" and c.get("observedGeneration") == generation:
            problems.append(
                f"{who}: {wanted} is {c.get('status')} at generation {generation} "
                f"(reason {c.get('reason') or '?'}: {c.get('message') or 'no message'})"
            )
    return problems


def _weights(w: Mapping[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(w.items()))


def read_route(api: Any, namespace: str, name: str) -> dict[str, Any]:
    """The HTTPRoute ``namespace/name`` as the API server returns it. A missing route or denied
    access is :class:`CanaryError` (waiting will not fix it); the API not answering is
    :class:`OSError` (it may come back)."""
    try:
        found = client.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, _request_timeout=REQUEST_TIMEOUT_S
        )
    except ApiException as err:
        if err.status == 404:
            raise CanaryError(
                f"no HTTPRoute {namespace}/{name} in the cluster: is the app's canary deployed "
                "(`pulumi up`)?"
            ) from None
        if err.status in (401, 403):
            raise CanaryError(
                f"the Kubernetes API refused to read HTTPRoute {namespace}/{name} "
                f"({err.status} {err.reason}): check the kubeconfig's credentials "
                "(gcloud auth login; gke-gcloud-auth-plugin) and read access to httproutes"
            ) from None
        raise OSError(f"the Kubernetes API answered {err.status} {err.reason}") from None
    except ConfigException as err:
        # The kubeconfig's exec plugin (gke-gcloud-auth-plugin) failed to give a token.
        raise CanaryError(f"no credentials for the Kubernetes API: {err}") from None
    except HTTPError as err:
        raise OSError(f"the Kubernetes API did not answer ({type(err).__name__})") from None
    if not isinstance(found, dict):
        raise OSError("the Kubernetes API returned something other than an object")
    return found


def wait_route(
    api: Any,
    namespace: str,
    name: str,
    expected: Mapping[str, int],
    *,
    timeout_s: float,
    poll_s: float = 2.0,
    out: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RouteState:
    """Reads the route every ``poll_s`` until :func:`route_state` finds no problem, and returns
    that state; :class:`RouteNotReady` naming the last problems when ``timeout_s`` passes first.
    ``out`` gets a line whenever what is awaited changes."""
    if not expected or any(not 0 <= w <= 1_000_000 for w in expected.values()):
        raise CanaryError(
            f"expected weights {dict(expected)!r}: allowed is one or more Services with weights "
            "0-1000000"
        )
    if not timeout_s > 0 or not poll_s > 0:
        raise CanaryError(f"timeout {timeout_s!r} s and poll {poll_s!r} s: both must be over 0")
    start = clock()
    last: tuple[str, ...] = ()
    while True:
        try:
            state = route_state(read_route(api, namespace, name), expected)
            problems = state.problems
        except OSError as err:
            problems = (str(err),)
        if not problems:
            return state
        if problems != last and out is not None:
            out(f"HTTPRoute {namespace}/{name}: waiting: {problems[0]}")
        last = problems
        elapsed = clock() - start
        if elapsed >= timeout_s:
            raise RouteNotReady(
                f"HTTPRoute {namespace}/{name} not current after {timeout_s:g} s: "
                + "; ".join(problems)
            )
        sleep(min(poll_s, max(0.0, timeout_s - elapsed)))
