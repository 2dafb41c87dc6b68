"""Waiting for an HTTPRoute's weights: the rule against routes as the API returns them, and the
wait through the real Kubernetes client against the API stub on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.canary import route
from infra.canary.errors import CanaryError, RouteNotReady
from infra.canary.route import Kubeconfig, route_state, wait_route
from tests.infra.canary.stubs import KubeApiStub, Parent, httproute

WANT = {"kubia-blue": 95, "kubia-green": 5}


def test_a_current_route_has_no_problem() -> None:
    state = route_state(httproute(3, WANT, [Parent(3)]), WANT)
    assert state.problems == ()
    assert (state.generation, state.weights) == (3, WANT)


def test_a_stale_parent_names_its_conditions_and_the_generations() -> None:
    (problem,) = route_state(httproute(3, WANT, [Parent(2)]), WANT).problems
    assert problem == (
        "Gateway default/canary (controller networking.gke.io/gateway): Accepted observed "
        "generation 2, ResolvedRefs observed generation 2, the route is at generation 3 (the "
        "controller has not processed the change yet)"
    )


def test_every_parent_counts_not_only_the_first() -> None:
    # pulumi-kubernetes' jsonpath= compares the first value a path selects: this route would pass
    # {.status.parents[*].conditions[?(@.type=="Accepted")].status}=True.
    r = httproute(3, WANT, [Parent(3), Parent(2, name="other")], spec_parents=["canary", "other"])
    (problem,) = route_state(r, WANT).problems
    assert problem.startswith("Gateway default/other (controller")
    assert "Accepted observed generation 2" in problem


def test_a_rejected_parent_names_the_reason() -> None:
    r = httproute(3, WANT, [Parent(3, accepted="False", reason="NotAllowedByListeners")])
    (problem,) = route_state(r, WANT).problems
    assert problem.endswith(
        "Accepted is False at generation 3 (reason NotAllowedByListeners: no message)"
    )


def test_unresolved_refs_are_a_problem() -> None:
    r = httproute(4, WANT, [Parent(4, resolved="False", reason="BackendNotFound")])
    (problem,) = route_state(r, WANT).problems
    assert "ResolvedRefs is False at generation 4 (reason BackendNotFound" in problem


def test_a_stale_rejection_is_only_stale() -> None:
    # A False condition of an older generation says nothing about the spec now in the API.
    r = httproute(3, WANT, [Parent(2, accepted="False")])
    (problem,) = route_state(r, WANT).problems
    assert "observed generation 2" in problem
    assert "is False" not in problem


def test_other_spec_weights_are_a_problem() -> None:
    r = httproute(2, {"kubia-blue": 100, "kubia-green": 0}, [Parent(2)])
    (problem,) = route_state(r, WANT).problems
    assert problem == (
        "the route's spec weights are kubia-blue=100 kubia-green=0, expected kubia-blue=95 "
        "kubia-green=5: the update is not in the API server (did `pulumi up` apply it?)"
    )


def test_a_missing_weight_is_one_as_gateway_api_defaults_it() -> None:
    r = httproute(2, {"kubia-blue": 1, "kubia-green": 0}, [Parent(2)])
    del r["spec"]["rules"][1]["backendRefs"][0]["weight"]
    assert route_state(r, {"kubia-blue": 1, "kubia-green": 0}).problems == ()


def test_a_parent_without_status_is_waited_for() -> None:
    r = httproute(1, WANT, [])
    (problem,) = route_state(r, WANT).problems
    assert problem == (
        "Gateway default/canary: no status yet (its controller has not seen the route)"
    )


def test_a_missing_condition_is_a_problem() -> None:
    r = httproute(1, WANT, [Parent(1)])
    r["status"]["parents"][0]["conditions"].pop()
    (problem,) = route_state(r, WANT).problems
    assert problem.endswith("no ResolvedRefs condition")


def test_a_route_without_the_weighted_rule_or_parents() -> None:
    r = httproute(1, WANT, [Parent(1)])
    r["spec"]["rules"] = r["spec"]["rules"][:1]
    r["spec"]["parentRefs"] = []
    problems = route_state(r, WANT).problems
    assert problems == (
        "no single rule of the route sends to kubia-blue and kubia-green: not the route this "
        "app's canary writes",
        "the route has no parentRefs: it is attached to no Gateway",
    )


def test_a_route_without_generation() -> None:
    assert route_state({"metadata": {}}, WANT).problems == ("the route has no metadata.generation",)


def _script(*answers: dict[str, Any]) -> Any:
    """Answer the nth read with the nth route, the last one from then on."""
    return lambda n: (200, answers[min(n, len(answers)) - 1])


def test_the_wait_returns_once_the_lagging_status_is_current(kube_api: KubeApiStub) -> None:
    stale = httproute(3, WANT, [Parent(2)])
    kube_api.routes["default", "kubia"] = _script(
        stale, stale, stale, httproute(3, WANT, [Parent(3)])
    )
    seen: list[str] = []
    api = Kubeconfig(kube_api.kubeconfig()).client()
    state = wait_route(api, "default", "kubia", WANT, out=seen.append, timeout_s=1.5, poll_s=0.05)
    assert state.problems == ()
    assert len(kube_api.reads) == 4
    # One line per change of what is awaited, not one per read.
    assert len(seen) == 1
    assert "Accepted observed generation 2" in seen[0]


def test_a_route_that_never_becomes_current_times_out_naming_why(kube_api: KubeApiStub) -> None:
    kube_api.routes["default", "kubia"] = _script(httproute(3, WANT, [Parent(2)]))
    api = Kubeconfig(kube_api.kubeconfig(), "stub").client()
    with pytest.raises(RouteNotReady) as err:
        wait_route(api, "default", "kubia", WANT, timeout_s=0.5, poll_s=0.05)
    assert str(err.value).startswith(
        "HTTPRoute default/kubia not current after 0.5 s: Gateway default/canary (controller "
        "networking.gke.io/gateway): Accepted observed generation 2"
    )
    assert len(kube_api.reads) >= 3


def test_a_parent_never_accepted_times_out_with_the_reason(kube_api: KubeApiStub) -> None:
    kube_api.routes["default", "kubia"] = _script(
        httproute(3, WANT, [Parent(3, accepted="False", reason="NoMatchingParent")])
    )
    api = Kubeconfig(kube_api.kubeconfig()).client()
    with pytest.raises(
        RouteNotReady, match=r"Accepted is False at generation 3 \(reason NoMatchingParent"
    ):
        wait_route(api, "default", "kubia", WANT, timeout_s=0.3, poll_s=0.05)


def test_a_missing_route_is_an_error_at_once(kube_api: KubeApiStub) -> None:
    api = Kubeconfig(kube_api.kubeconfig()).client()
    with pytest.raises(CanaryError, match=r"no HTTPRoute default/nope in the cluster") as err:
        wait_route(api, "default", "nope", WANT, timeout_s=1.5, poll_s=0.05)
    assert not isinstance(err.value, RouteNotReady)
    assert len(kube_api.reads) == 1


def test_refused_credentials_are_an_error_at_once(kube_api: KubeApiStub) -> None:
    kube_api.routes["default", "kubia"] = _script(httproute(1, WANT, [Parent(1)]))
    api = Kubeconfig(kube_api.kubeconfig(token="wrong")).client()
    with pytest.raises(CanaryError, match=r"refused to read HTTPRoute default/kubia \(401"):
        wait_route(api, "default", "kubia", WANT, timeout_s=1.5, poll_s=0.05)


def test_an_api_that_does_not_answer_is_retried_until_the_timeout(kube_api: KubeApiStub) -> None:
    api = Kubeconfig(kube_api.kubeconfig()).client()
    kube_api.close()
    with pytest.raises(RouteNotReady, match="the Kubernetes API did not answer"):
        wait_route(api, "default", "kubia", WANT, timeout_s=0.3, poll_s=0.05)


def test_an_api_error_answer_is_retried_until_the_timeout(kube_api: KubeApiStub) -> None:
    kube_api.routes["default", "kubia"] = lambda n: (500, {"kind": "Status", "code": 500})
    api = Kubeconfig(kube_api.kubeconfig()).client()
    with pytest.raises(RouteNotReady, match="the Kubernetes API answered 500"):
        wait_route(api, "default", "kubia", WANT, timeout_s=0.3, poll_s=0.05)
    assert len(kube_api.reads) >= 2


@pytest.mark.parametrize(
    ("expected", "timeout", "poll", "match"),
    [
        ({}, 1.0, 0.1, "expected weights {}: allowed is one or more Services"),
        ({"a": -1}, 1.0, 0.1, "expected weights"),
        (WANT, 0.0, 0.1, "timeout 0.0 s and poll 0.1 s: both must be over 0"),
        (WANT, 1.0, 0.0, "both must be over 0"),
    ],
)
def test_bad_wait_inputs_are_refused(
    expected: dict[str, int], timeout: float, poll: float, match: str
) -> None:
    with pytest.raises(CanaryError, match=match):
        wait_route(None, "default", "kubia", expected, timeout_s=timeout, poll_s=poll)


@pytest.mark.parametrize(
    ("text", "context", "match"),
    [
        ("[secret]", None, r"no contexts \(a hidden secret: read it with --show-secrets\)"),
        ("a: [b", None, "the kubeconfig is not YAML"),
        ("apiVersion: v1\nkind: Config\n", None, "the kubeconfig has no contexts$"),
    ],
)
def test_an_unusable_kubeconfig_is_one_line(text: str, context: str | None, match: str) -> None:
    with pytest.raises(CanaryError, match=match):
        Kubeconfig(text, context).client()


def test_an_unknown_context_is_one_line(kube_api: KubeApiStub) -> None:
    with pytest.raises(CanaryError, match=r"the kubeconfig cannot be used: .*nope"):
        Kubeconfig(kube_api.kubeconfig(), "nope").client()


def test_a_kubeconfig_file(kube_api: KubeApiStub, tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(kube_api.kubeconfig())
    kube_api.routes["default", "kubia"] = _script(httproute(1, WANT, [Parent(1)]))
    api = Kubeconfig.from_file(path, "stub").client()
    assert route.read_route(api, "default", "kubia")["metadata"]["generation"] == 1
    with pytest.raises(CanaryError, match=f"kubeconfig {tmp_path / 'none'}: cannot read it"):
        Kubeconfig.from_file(tmp_path / "none")
