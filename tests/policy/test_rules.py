"""Each policy rule on good and bad inputs, without the Pulumi engine (policy/rules.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policy import rules
from policy.rules import Context

DIGEST = "asia-northeast1-docker.pkg.dev/p/apps/imageview@sha256:" + "a" * 64
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
# Split so the repo's own detect-private-key hook does not flag this test.
PEM_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"
AR_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"

DEV = Context(stack="dev", config={"registry": {"publicRead": False}})
DEV_PUBLIC = Context(stack="dev", config={"registry": {"publicRead": True}})
PROD = Context(stack="prod", config={"registry": {"publicRead": False}})
PROD_PUBLIC = Context(stack="prod", config={"registry": {"publicRead": True}})
#: Resource options a caller cannot see (the rules that read none ignore them).
UNKNOWN = rules.Options()


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


def run(
    rule: str,
    rtype: str,
    inputs: dict[str, Any],
    ctx: Context = DEV,
    options: rules.Options = UNKNOWN,
) -> list[str]:
    """Messages of one rule (by name) on one resource."""
    (r,) = [r for r in rules.RULES if r.name == rule]
    return r.resource_messages(rtype, inputs, options, ctx)


def test_every_rule_passes_the_good_deployment() -> None:
    for r in rules.RULES:
        assert r.resource_messages(DEPLOYMENT, deployment(), UNKNOWN, PROD) == [], r.name


def test_rule_names_are_unique_and_levels_cover_both() -> None:
    names = [r.name for r in rules.RULES]
    assert len(names) == len(set(names))
    assert {r.level for r in rules.RULES} == {rules.Level.MANDATORY, rules.Level.ADVISORY}


# --- registry-no-public-read -------------------------------------------------------------------

PUBLIC_GRANTS = [
    (AR_MEMBER, {"member": "allUsers", "role": "roles/artifactregistry.reader"}),
    (
        "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
        {
            "members": ["serviceAccount:x@p.iam.gserviceaccount.com", "allUsers"],
            "role": "roles/artifactregistry.reader",
        },
    ),
    (
        "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy",
        {
            "policyData": json.dumps(
                {
                    "bindings": [
                        {
                            "role": "roles/artifactregistry.reader",
                            "members": ["allAuthenticatedUsers"],
                        }
                    ]
                }
            )
        },
    ),
    (
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {
            "bucket": "artifacts.p.appspot.com",
            "member": "allUsers",
            "role": "roles/storage.objectViewer",
        },
    ),
    (
        "gcp:storage/bucketAccessControl:BucketAccessControl",
        {"bucket": "artifacts.p.appspot.com", "entity": "allUsers", "role": "READER"},
    ),
    (
        "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
        {"bucket": "artifacts.p.appspot.com", "entity": "allUsers", "role": "READER"},
    ),
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "predefinedAcl": "publicRead"}),
    (
        "gcp:storage/defaultObjectACL:DefaultObjectACL",
        {"bucket": "b", "roleEntities": ["READER:allUsers"]},
    ),
]


@pytest.mark.parametrize(("rtype", "inputs"), PUBLIC_GRANTS, ids=lambda v: str(v)[:40])
def test_public_read_needs_opt_in_and_never_in_prod(rtype: str, inputs: dict[str, Any]) -> None:
    assert run("registry-no-public-read", rtype, inputs, DEV_PUBLIC) == []
    (msg,) = run("registry-no-public-read", rtype, inputs, DEV)
    assert "does not opt in" in msg and "registry.publicRead: true" in msg
    for ctx in (PROD, PROD_PUBLIC):
        (msg,) = run("registry-no-public-read", rtype, inputs, ctx)
        assert "never allowed on stack 'prod'" in msg


def test_private_grants_pass_everywhere() -> None:
    node_reader = {
        "member": "serviceAccount:nodes@p.iam.gserviceaccount.com",
        "role": "roles/artifactregistry.reader",
    }
    for ctx in (DEV, PROD):
        assert run("registry-no-public-read", AR_MEMBER, node_reader, ctx) == []


def test_public_write_is_refused_even_with_opt_in() -> None:
    (msg,) = run(
        "registry-no-public-read",
        AR_MEMBER,
        {"member": "allUsers", "role": "roles/artifactregistry.writer"},
        DEV_PUBLIC,
    )
    assert "only read roles" in msg


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_prod_config_asking_for_public_read_fails(value: object) -> None:
    ctx = Context(stack="prod", config={"registry": {"publicRead": value}})
    (msg,) = rules.check_public_read_config(ctx)
    assert "registry.publicRead: true" in msg
    assert rules.check_public_read_config(Context(stack="dev", config=ctx.config)) == []
    assert rules.check_public_read_config(PROD) == []


# --- node-pool-dedicated-service-account --------------------------------------------------------

NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"


@pytest.mark.parametrize(
    "sa", [None, "", "default", "123456789012-compute@developer.gserviceaccount.com"]
)
def test_node_pool_with_default_service_account_fails(sa: str | None) -> None:
    node_config = {} if sa is None else {"serviceAccount": sa}
    (msg,) = run("node-pool-dedicated-service-account", NODE_POOL, {"nodeConfig": node_config})
    assert "Compute default" in msg
    (msg,) = run(
        "node-pool-dedicated-service-account",
        CLUSTER,
        {"nodeConfig": node_config, "removeDefaultNodePool": True},
    )
    assert msg.startswith("default node pool")


def test_node_pool_without_node_config_fails() -> None:
    (msg,) = run("node-pool-dedicated-service-account", NODE_POOL, {"cluster": "c"})
    assert "no nodeConfig.serviceAccount" in msg


def test_dedicated_service_account_passes() -> None:
    good = {"nodeConfig": {"serviceAccount": "imageview-nodes@p.iam.gserviceaccount.com"}}
    assert run("node-pool-dedicated-service-account", NODE_POOL, good) == []
    assert run("node-pool-dedicated-service-account", CLUSTER, good) == []
    # A cluster that declares no node config at all has no pool of its own to check.
    assert run("node-pool-dedicated-service-account", CLUSTER, {"name": "c"}) == []


def test_inline_node_pools_of_a_cluster_are_checked() -> None:
    (msg,) = run(
        "node-pool-dedicated-service-account",
        CLUSTER,
        {"nodePools": [{"name": "extra", "nodeConfig": {"serviceAccount": "default"}}]},
    )
    assert "node pool 'extra'" in msg


# --- prod-deletion-protection -------------------------------------------------------------------


def test_prod_cluster_without_deletion_protection_fails() -> None:
    (msg,) = run("prod-deletion-protection", CLUSTER, {"deletionProtection": False}, PROD)
    assert "deletionProtection: false" in msg
    assert run("prod-deletion-protection", CLUSTER, {"deletionProtection": True}, PROD) == []
    assert run("prod-deletion-protection", CLUSTER, {}, PROD) == []  # provider default: true
    assert run("prod-deletion-protection", CLUSTER, {"deletionProtection": False}, DEV) == []


@pytest.mark.parametrize("value", [False, "false"])
def test_prod_config_turning_deletion_protection_off_fails(value: object) -> None:
    ctx = Context(stack="prod", config={"cluster": {"deletionProtection": value}})
    (msg,) = rules.check_prod_deletion_protection_config(ctx)
    assert "cluster.deletionProtection: false" in msg
    assert (
        rules.check_prod_deletion_protection_config(Context(stack="dev", config=ctx.config)) == []
    )


# --- prod-stateful-kept ------------------------------------------------------------------------

KEPT = rules.Options(protect=True, retain_on_delete=True)
REPOSITORY = rules.REPOSITORY


@pytest.mark.parametrize(
    ("rtype", "options", "lacking"),
    [
        (CLUSTER, rules.Options(protect=False, retain_on_delete=False), "lacks protect:"),
        (REPOSITORY, rules.Options(protect=False, retain_on_delete=True), "lacks protect:"),
        (REPOSITORY, rules.Options(protect=True, retain_on_delete=False), "lacks retainOnDelete:"),
        (REPOSITORY, rules.Options(protect=False, retain_on_delete=False), "protect and retain"),
    ],
    ids=str,
)
def test_prod_cluster_and_repository_must_be_kept(
    rtype: str, options: rules.Options, lacking: str
) -> None:
    (msg,) = run("prod-stateful-kept", rtype, {}, PROD, options)
    assert lacking in msg and "stack 'prod'" in msg
    assert run("prod-stateful-kept", rtype, {}, PROD, KEPT) == []
    # Labs may be torn down with one `pulumi destroy`.
    assert run("prod-stateful-kept", rtype, {}, DEV, options) == []


def test_a_protected_cluster_need_not_be_retained() -> None:
    # Everything on the cluster is declared by the program; a retained cluster runs on, billed.
    cluster = rules.Options(protect=True, retain_on_delete=False)
    assert run("prod-stateful-kept", CLUSTER, {}, PROD, cluster) == []


def test_an_option_the_caller_cannot_see_is_not_judged() -> None:
    # A CrossGuard pack gets protect but never retainOnDelete (rules.Options).
    pack_view = rules.Options(protect=True)
    assert run("prod-stateful-kept", REPOSITORY, {}, PROD, pack_view) == []
    (msg,) = run("prod-stateful-kept", REPOSITORY, {}, PROD, rules.Options(protect=False))
    assert "lacks protect:" in msg


def test_other_resources_need_no_protection() -> None:
    unprotected = rules.Options(protect=False, retain_on_delete=False)
    for rtype in (NODE_POOL, DEPLOYMENT, AR_MEMBER):
        assert run("prod-stateful-kept", rtype, {}, PROD, unprotected) == [], rtype


# --- container rules ----------------------------------------------------------------------------


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
    kinds = {
        "kubernetes:core/v1:Pod": {"spec": bad},
        "kubernetes:apps/v1:StatefulSet": {"spec": {"template": {"spec": bad}}},
        "kubernetes:batch/v1:CronJob": {
            "spec": {"jobTemplate": {"spec": {"template": {"spec": bad}}}}
        },
    }
    for rtype, inputs in kinds.items():
        assert len(run("image-by-digest", rtype, inputs)) == 1, rtype
    assert (
        run("image-by-digest", "kubernetes:core/v1:ConfigMap", {"data": {"image": "nginx"}}) == []
    )


def test_hardening_checks_pod_seccomp_and_token_automount() -> None:
    msgs = run(
        "container-hardening",
        DEPLOYMENT,
        deployment(automountServiceAccountToken=True, securityContext={"runAsNonRoot": True}),
    )
    assert any("seccompProfile" in m for m in msgs)
    assert any("automountServiceAccountToken" in m for m in msgs)


def test_secret_in_config_map_fails() -> None:
    cm = "kubernetes:core/v1:ConfigMap"
    assert run("no-plain-secret", cm, {"data": {"project.id": "hello-docker"}}) == []
    (msg,) = run("no-plain-secret", cm, {"metadata": {"name": "cfg"}, "data": {"db_password": "x"}})
    assert "ConfigMap 'cfg' key db_password" in msg


# --- load-balancer-declared ---------------------------------------------------------------------

SERVICE = "kubernetes:core/v1:Service"


def svc(app: str, type_: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "webserver", "labels": {"app": app, "type": "webserver"}},
        "spec": {"type": type_, "selector": {"app": app, "color": "blue"}},
    }


def test_load_balancer_only_for_declaring_apps() -> None:
    ctx = Context(
        stack="dev",
        config={
            "apps": {
                "imageview": {"service": {"type": "LoadBalancer"}},
                "kubia": {"service": {"type": "ClusterIP"}},
            }
        },
    )
    assert run("load-balancer-declared", SERVICE, svc("imageview", "LoadBalancer"), ctx) == []
    assert run("load-balancer-declared", SERVICE, svc("kubia", "ClusterIP"), ctx) == []
    (msg,) = run("load-balancer-declared", SERVICE, svc("kubia", "LoadBalancer"), ctx)
    assert "apps.kubia.service.type: LoadBalancer" in msg and "(apps that do: imageview)" in msg
    (msg,) = run("load-balancer-declared", SERVICE, svc("kubia", "LoadBalancer"), DEV)
    assert "(apps that do: none)" in msg


# --- prod-replicas ------------------------------------------------------------------------------


def test_single_replica_of_the_live_color_in_prod_is_advised_against() -> None:
    (msg,) = run("prod-replicas", DEPLOYMENT, deployment(replicas=1), PROD)
    assert "1 replica" in msg
    assert run("prod-replicas", DEPLOYMENT, deployment(replicas=2), PROD) == []
    assert run("prod-replicas", DEPLOYMENT, deployment(replicas=1), DEV) == []
    # Blue is live by default; once green is live, the blue Deployment is the idle (warm) one.
    green_live = Context(stack="prod", config={"apps": {"imageview": {"activeColor": "green"}}})
    assert run("prod-replicas", DEPLOYMENT, deployment(replicas=1), green_live) == []


# --- image-by-digest on the local platform -----------------------------------------------------

LOCAL = Context(stack="local", config={"platform": "local"})


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
    assert messages == [] if ok else "platform local" in messages[0]
    # The same tag on a cloud stack is never enough.
    if "@" not in image:
        assert run("image-by-digest", DEPLOYMENT, deployment(c), DEV)


# --- context ------------------------------------------------------------------------------------


def test_parse_config_from_engine_env() -> None:
    env = {
        "gke-bluegreen:registry": '{"publicRead":true}',
        "gke-bluegreen:platform": "gke",
        "gcp:project": "p",
        "gke-bluegreen:bad": "{not json",
    }
    cfg = rules.parse_config(env)
    assert cfg == {
        "registry": {"publicRead": True},
        "platform": "gke",
        "gcp:project": "p",
        "bad": "{not json",
    }
    ctx = Context(stack="dev", config=cfg)
    assert ctx.flag("registry.publicRead") and not ctx.flag("registry.missing")
    assert ctx.get("platform.x", "d") == "d"
