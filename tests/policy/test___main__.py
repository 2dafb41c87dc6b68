"""The CrossGuard wrapper (policy/__main__.py), run the way the Pulumi CLI runs it.

There is no Pulumi engine here, so the test plays the engine's part: it starts the pack in its own
venv with ``python -m pulumi.policy`` (what the CLI's ``pulumi-analyzer-policy-python`` does), with
the stack and its config in ``PULUMI_STACK`` / ``PULUMI_CONFIG``, reads the port the pack prints,
and calls the Analyzer gRPC service on loopback with the stubs of the ``pulumi`` package.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy.offline import evaluate, load_render
from policy.rules import RULES
from policy.rules.model import PROJECT, Level
from tests.delivery.renders import render, stacks
from tests.prerequisites import unavailable

ROOT = Path(__file__).resolve().parents[2]
PACK_PYTHON = ROOT / "policy" / ".venv" / "bin" / "python"
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")
START_TIMEOUT_S = 60


def pack_venv() -> Path:
    """The pack's venv python; missing is a skip on a dev machine, a failure in CI."""
    if not PACK_PYTHON.exists():
        unavailable("policy/.venv is missing: run scripts/install.sh (or make policy-venv)")
    return PACK_PYTHON


class Pack:
    """A running policy pack process and an Analyzer client bound to it."""

    def __init__(self, stack: str, config: dict[str, Any]) -> None:
        env = {
            **os.environ,
            "PULUMI_PROJECT": PROJECT,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true",
            "PULUMI_CONFIG": json.dumps(
                {
                    f"{PROJECT}:{k}": json.dumps(v) if isinstance(v, dict) else str(v)
                    for k, v in config.items()
                }
            ),
        }
        # The engine address is only used to log a crash; nothing listens there.
        self.proc = subprocess.Popen(
            [str(pack_venv()), "-u", "-m", "pulumi.policy", "127.0.0.1:9", str(ROOT / "policy")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        watchdog = threading.Timer(START_TIMEOUT_S, self.proc.kill)
        watchdog.start()
        try:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
        finally:
            watchdog.cancel()
        if not line.strip().isdigit():
            self.close()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"policy pack did not start: stdout={line!r} stderr={err}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def analyze(self, rtype: str, props: dict[str, Any], protect: bool = False) -> list[Any]:
        """Diagnostics of every resource policy for one resource. The engine sends the
        resource's ``protect`` in its options (and no ``retainOnDelete``: model.Options)."""
        s = struct_pb2.Struct()
        s.update(props)
        urn = f"urn:pulumi:test::{PROJECT}::{rtype}::r"
        options = analyzer_pb2.AnalyzerResourceOptions(protect=protect)
        req = analyzer_pb2.AnalyzeRequest(
            type=rtype, properties=s, urn=urn, name="r", options=options
        )
        return list(self.stub.Analyze(req, timeout=30).diagnostics)

    def analyze_stack(self, resources: list[dict[str, Any]] | None = None) -> list[Any]:
        """Diagnostics of every stack policy for a stack of ``resources`` (render rows: type,
        urn, inputs; none: an empty stack)."""
        sent = []
        for res in resources or []:
            props = struct_pb2.Struct()
            props.update(res["inputs"])
            sent.append(
                analyzer_pb2.AnalyzerResource(
                    type=res["type"],
                    properties=props,
                    urn=res["urn"],
                    name=res["urn"].rsplit("::", 1)[-1],
                )
            )
        request = analyzer_pb2.AnalyzeStackRequest(resources=sent)
        return list(self.stub.AnalyzeStack(request, timeout=30).diagnostics)

    def close(self) -> None:
        if hasattr(self, "channel"):
            self.channel.close()
        self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def pack_factory() -> Iterator[Any]:
    started: list[Pack] = []

    def start(stack: str, config: dict[str, Any]) -> Pack:
        started.append(Pack(stack, config))
        return started[-1]

    yield start
    for p in started:
        p.close()


PUBLIC_MEMBER = (
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    {"member": "allUsers", "role": "roles/artifactregistry.reader", "repository": "apps"},
)


def test_pack_lists_every_rule_with_its_level(pack_factory: Any) -> None:
    info = pack_factory("dev", {}).stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "gke-bluegreen"
    levels = {p.name: p.enforcementLevel for p in info.policies}
    for r in RULES:
        assert levels[r.name] == (MANDATORY if r.level is Level.MANDATORY else ADVISORY)
        if r.stack_check is not None:
            assert f"{r.name}-config" in levels
    assert len(levels) == len(RULES) + sum(r.stack_check is not None for r in RULES)


def test_pack_blocks_public_read_on_prod_and_allows_opted_in_dev(pack_factory: Any) -> None:
    prod = pack_factory("prod", {"registry": {"publicRead": False}})
    diags = prod.analyze(*PUBLIC_MEMBER)
    assert [(d.policyName, d.enforcementLevel) for d in diags] == [
        ("registry-no-public-read", MANDATORY)
    ]
    assert "never allowed on stack 'prod'" in diags[0].message

    dev = pack_factory("dev", {"registry": {"publicRead": True}})
    assert dev.analyze(*PUBLIC_MEMBER) == []


def test_pack_checks_stack_config(pack_factory: Any) -> None:
    prod = pack_factory(
        "prod", {"registry": {"publicRead": True}, "cluster": {"deletionProtection": False}}
    )
    names = sorted(d.policyName for d in prod.analyze_stack())
    assert names == ["prod-deletion-protection-config", "registry-no-public-read-config"]
    assert pack_factory("dev", {"registry": {"publicRead": True}}).analyze_stack() == []


@pytest.mark.parametrize(
    "rtype", ["gcp:container/cluster:Cluster", "gcp:artifactregistry/repository:Repository"]
)
def test_pack_blocks_an_unprotected_prod_cluster_or_registry(pack_factory: Any, rtype: str) -> None:
    prod = pack_factory("prod", {})
    diags = prod.analyze(rtype, {}, protect=False)
    assert [(d.policyName, d.enforcementLevel) for d in diags] == [
        ("prod-stateful-kept", MANDATORY)
    ]
    assert "lacks protect:" in diags[0].message
    # Protected passes: the pack cannot see retainOnDelete, which the offline runner checks.
    assert prod.analyze(rtype, {}, protect=True) == []
    assert pack_factory("dev", {}).analyze(rtype, {}, protect=False) == []


def test_pack_relates_resources_in_a_stack_policy(pack_factory: Any) -> None:
    """A rule over every resource together (a route's Services and their health checks) runs as
    a stack policy named after the rule; its finding names the route."""
    if "dev" not in stacks():
        pytest.skip("no stack dev")
    r = load_render(render("dev"))
    pack = pack_factory("dev", dict(r.ctx.config))
    assert pack.analyze_stack(r.resources) == []
    without = [
        x
        for x in r.resources
        if not (x["type"].endswith(":HealthCheckPolicy") and "kubia-green" in x["urn"])
    ]
    (diag,) = pack.analyze_stack(without)
    assert (diag.policyName, diag.enforcementLevel) == ("canary-health-check-per-color", MANDATORY)
    assert diag.urn.endswith("HTTPRoute::kubia-route")
    assert "Service 'kubia-green', which no HealthCheckPolicy targets" in diag.message


def test_pack_reports_advisory_findings_as_advisory(pack_factory: Any) -> None:
    deployment = {
        "metadata": {"name": "w"},
        "spec": {
            "replicas": 1,
            "template": {"spec": {"containers": [{"name": "c", "image": "nginx:latest"}]}},
        },
    }
    diags = pack_factory("prod", {}).analyze("kubernetes:apps/v1:Deployment", deployment)
    by_policy = {d.policyName: d.enforcementLevel for d in diags}
    assert by_policy["image-by-digest"] == MANDATORY
    assert by_policy["container-probes"] == MANDATORY
    assert by_policy["prod-replicas"] == ADVISORY
    assert by_policy["container-hardening"] == ADVISORY


def test_unknown_preview_values_skip_the_rule_instead_of_failing(pack_factory: Any) -> None:
    # During a first preview the node pool's service account email is not known yet.
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    diags = pack_factory("dev", {}).analyze(
        "gcp:container/nodePool:NodePool", {"nodeConfig": {"serviceAccount": unknown}}
    )
    assert len(diags) == 1 and diags[0].enforcementLevel == ADVISORY
    assert "can't be known during preview" in diags[0].message


def findings_by_resource(findings: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        out.setdefault(f.urn, []).append(f.rule)
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.parametrize(
    ("stack", "sets"),
    [
        ("prod", []),
        ("dev", []),
        ("prod", ["registry.publicRead=true", "cluster.deletionProtection=false"]),
    ],
    ids=["prod", "dev", "prod-bad"],
)
def test_pack_agrees_with_the_offline_runner(
    pack_factory: Any, stack: str, sets: list[str]
) -> None:
    # The same rules through CrossGuard (every resource of a real render over gRPC) and through
    # policy.offline must report the same violations.
    if stack not in stacks():
        pytest.skip(f"no stack {stack}")
    r = load_render(render(stack, sets))
    pack = pack_factory(stack, dict(r.ctx.config))
    via_pack: dict[str, list[str]] = {}
    for res in r.resources:
        for d in pack.analyze(res["type"], res["inputs"], res["options"]["protect"]):
            via_pack.setdefault(res["urn"], []).append(d.policyName)
    for d in pack.analyze_stack(r.resources):
        # A stack-config finding has no resource; one over all resources names the one at fault.
        key = d.urn or f"stack:{stack}"
        via_pack.setdefault(key, []).append(d.policyName.removesuffix("-config"))
    offline = findings_by_resource(evaluate(r))
    assert {k: sorted(v) for k, v in via_pack.items()} == offline
    assert bool(offline) == bool(sets)
