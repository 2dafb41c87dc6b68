"""The pod and container rules (policy/rules/pods.py) on good and bad inputs."""

from __future__ import annotations

from typing import Any

import pytest

from infra.offline import mocks
from policy.rules.pods import CONFIG_MAP, SECRET_MARKER
from tests.policy.rules.cases import (
    DEPLOYMENT,
    DEV,
    DIGEST,
    LOCAL,
    PROD,
    broken,
    container,
    deployment,
    run,
)

# Split so the repo's own detect-private-key hook does not flag this test.
PEM_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("rule", "path", "value", "expected"),
    [
        ("container-non-root", "securityContext.runAsNonRoot", False, "runAsNonRoot: true"),
        ("container-non-root", "securityContext.runAsUser", 0, "runAsUser: 0"),
        ("container-non-root", "securityContext.privileged", True, "is privileged"),
        (
            "container-non-root",
            "securityContext.allowPrivilegeEscalation",
            None,
            "allowPrivilegeEscalation: false",
        ),
        ("container-resources", "resources.limits", None, "limits.cpu, limits.memory"),
        ("container-resources", "resources.requests.memory", None, "requests.memory"),
        ("container-probes", "readinessProbe", None, "no readinessProbe"),
        ("container-probes", "livenessProbe", None, "no livenessProbe"),
        ("image-by-digest", "image", "gcr.io/p/imageview:blue", "not pinned by digest"),
        ("image-by-digest", "image", "gcr.io/p/imageview@sha256:short", "not pinned by digest"),
        ("no-plain-secret", "env", [{"name": "SECRET_KEY", "value": "asa"}], "literal value"),
        ("no-plain-secret", "env", [{"name": "API_TOKEN", "value": "x"}], "literal value"),
        ("no-plain-secret", "env", [{"name": "PROJECT_ID", "value": "[secret]"}], "Pulumi secret"),
        (
            "no-plain-secret",
            "env",
            [{"name": "CERT", "value": PEM_HEADER + "\nMII"}],
            "credential",
        ),
        (
            "container-hardening",
            "securityContext.readOnlyRootFilesystem",
            None,
            "readOnlyRootFilesystem",
        ),
        ("container-hardening", "securityContext.capabilities", None, "drop ALL"),
    ],
)
def test_container_rule_fails_on_bad_container(
    rule: str, path: str, value: Any, expected: str
) -> None:
    messages = run(rule, DEPLOYMENT, deployment(broken(path, value)), PROD)
    assert len(messages) == 1 and expected in messages[0], messages
    assert "container 'webserver-container'" in messages[0]


def test_pod_level_non_root_counts_for_every_container() -> None:
    c = broken("securityContext.runAsNonRoot", None)
    assert run("container-non-root", DEPLOYMENT, deployment(c)) == []
    pod_root = deployment(c, securityContext={"runAsNonRoot": False})
    (msg,) = run("container-non-root", DEPLOYMENT, pod_root)
    assert "runAsNonRoot" in msg


def test_a_container_setting_overrides_the_pods() -> None:
    # Kubernetes applies the container's securityContext over the pod's.
    c = broken("securityContext.runAsUser", 10001)
    assert (
        run("container-non-root", DEPLOYMENT, deployment(c, securityContext={"runAsUser": 0})) == []
    )
    root = broken("securityContext.runAsUser", 0)
    (msg,) = run("container-non-root", DEPLOYMENT, deployment(root))
    assert "runAsUser: 0 (root)" in msg


def test_init_containers_are_checked_but_need_no_probes() -> None:
    init = broken("readinessProbe", None)
    init.pop("livenessProbe")
    ok = deployment(container(), initContainers=[init])
    assert run("container-probes", DEPLOYMENT, ok) == []
    bad = deployment(container(), initContainers=[broken("image", "busybox:latest")])
    (msg,) = run("image-by-digest", DEPLOYMENT, bad)
    assert msg.startswith("init container")


@pytest.mark.parametrize(
    ("rtype", "job"),
    [
        ("kubernetes:batch/v1:Job", lambda spec: {"spec": spec}),
        ("kubernetes:batch/v1:CronJob", lambda spec: {"spec": {"jobTemplate": {"spec": spec}}}),
    ],
    ids=["Job", "CronJob"],
)
def test_a_job_needs_a_deadline_not_probes(rtype: str, job: Any) -> None:
    # A run-to-completion container takes no traffic: readiness means nothing, and a deadline
    # ends a hung run where a liveness probe would only restart it.
    pod = {
        "template": {"spec": {"containers": [container(readinessProbe=None, livenessProbe=None)]}}
    }
    assert run("container-probes", rtype, job({**pod, "activeDeadlineSeconds": 300})) == []
    (msg,) = run("container-probes", rtype, job(pod))
    assert "activeDeadlineSeconds: a hung run never ends" in msg


def test_every_workload_kind_is_checked() -> None:
    bad = {"containers": [broken("image", "nginx")]}
    kinds: dict[str, dict[str, Any]] = {
        "kubernetes:core/v1:Pod": {"spec": bad},
        "kubernetes:apps/v1:StatefulSet": {"spec": {"template": {"spec": bad}}},
        "kubernetes:batch/v1:CronJob": {
            "spec": {"jobTemplate": {"spec": {"template": {"spec": bad}}}}
        },
    }
    for rtype, inputs in kinds.items():
        assert len(run("image-by-digest", rtype, inputs)) == 1, rtype
    assert run("image-by-digest", CONFIG_MAP, {"data": {"image": "nginx"}}) == []


def test_hardening_checks_pod_seccomp_and_token_automount() -> None:
    msgs = run(
        "container-hardening",
        DEPLOYMENT,
        deployment(automountServiceAccountToken=True, securityContext={"runAsNonRoot": True}),
    )
    assert any("seccompProfile" in m for m in msgs)
    assert any("automountServiceAccountToken" in m for m in msgs)


def test_secret_in_config_map_fails() -> None:
    assert run("no-plain-secret", CONFIG_MAP, {"data": {"project.id": "hello-docker"}}) == []
    bad = {"metadata": {"name": "cfg"}, "data": {"db_password": "x"}}
    (msg,) = run("no-plain-secret", CONFIG_MAP, bad)
    assert "ConfigMap 'cfg' key db_password" in msg


def test_the_secret_marker_is_what_the_offline_render_writes_for_a_secret() -> None:
    # The pack cannot import infra/, so it keeps its own copy of the marker; the two must agree
    # or a redacted secret in a plain value would pass unnoticed.
    redacted = mocks.redact(mocks.secret("s3cret-key"))
    assert redacted == SECRET_MARKER
    c = container(env=[{"name": "PROJECT_ID", "value": redacted}])
    (msg,) = run("no-plain-secret", DEPLOYMENT, deployment(c))
    assert "env PROJECT_ID holds a Pulumi secret as a plain value" in msg


# --- image-by-digest on the local platform -----------------------------------------------------


@pytest.mark.parametrize(
    ("image", "policy", "ok"),
    [
        ("kubia:src-e5354392cf6e", None, True),
        ("kubia:src-e5354392cf6e", "IfNotPresent", True),
        ("kubia:src-e5354392cf6e", "Always", False),
        ("kubia:latest", None, False),
        ("kubia", None, False),
        ("localhost:5000/kubia", None, False),
        (DIGEST, "Always", True),
    ],
)
def test_local_images_need_a_fixed_tag_and_no_pull(
    image: str, policy: str | None, ok: bool
) -> None:
    c = container(image=image, **({"imagePullPolicy": policy} if policy else {}))
    messages = run("image-by-digest", DEPLOYMENT, deployment(c), LOCAL)
    if ok:
        assert messages == []
    else:
        (msg,) = messages
        assert "platform local" in msg
    # The same tag on a cloud stack is never enough.
    if "@" not in image:
        assert run("image-by-digest", DEPLOYMENT, deployment(c), DEV)
