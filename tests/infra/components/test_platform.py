"""infra/components/platform.py: every GCP, Kubernetes and Docker resource and invoke goes through
a provider the program registers (Pulumi.yaml disables the default ones), the providers are the
stack's, and what each stack keeps from deletion.

The engine's rule is ported from pulumi/pulumi at 1b59498:
``pkg/resource/deploy/default_providers.go`` ``shouldDenyRequest`` (which packages
``pulumi:disable-default-providers`` denies), ``source_eval.go`` ``getProviderReference`` (an
invoke without a provider asks for the default one) and ``step_generator.go``
``loadResourceProvider`` (a resource whose default provider is denied fails with "Default provider
for '<pkg>' disabled").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import pulumi
import pulumi_docker as docker
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from infra.offline import mocks, program, stackfile
from infra.offline.program import Render
from infra.settings import COLORS
from tests.helpers import CLUSTER, DEPLOYMENT, plain

Renderer = Callable[..., Render]
DISABLED = "pulumi:disable-default-providers"
#: The packages whose resources act on a cloud project, a cluster or a Docker engine.
CLOUD_PACKAGES = {"gcp", "kubernetes", "docker"}
#: Dynamic providers' packages (``pkg/resource/deploy/target.go`` ``isDynamicProvider``): they
#: have no explicit provider to take, so they must stay allowed.
DYNAMIC_PACKAGES = {"pulumi-python", "pulumi-nodejs"}
PROVIDER_PREFIX = "pulumi:providers:"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
ACL_GRANT = mocks.ACL_GRANT
CLIENT_CONFIG = "gcp:organizations/getClientConfig:getClientConfig"
#: Renders that between them register every kind of resource the program can: each stack, and
#: S1's legacy bucket with public read (the dynamic ObjectAclGrant).
RENDERS = [(s, ()) for s in stackfile.stack_names()] + [
    ("dev", ("registry.mode=legacy-bucket", "registry.location=us"))
]


def denied(package: str, disabled: str) -> bool:
    """``shouldDenyRequest``: ``pulumi`` is always allowed; an empty value denies nothing; else
    the value is a JSON list of strings, and ``*`` or the package's name (trimmed) denies it."""
    if package == "pulumi" or disabled == "":
        return False
    entries = json.loads(disabled)
    for i, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise ValueError(f"{DISABLED}[{i}] must be a string")
    return any(entry.strip() in ("*", package) for entry in entries)


def package(token: str) -> str:
    """The package of a type or function token (``tokens.Type.Package``)."""
    return token.split(":", 1)[0]


def default_provider_requests(
    render: Render, invoked: Sequence[mocks.Invoked], disabled: str | None = None
) -> list[str]:
    """Every resource or invoke the engine would refuse, or let act through a default provider,
    one line each. ``disabled`` is the config value as the engine gets it (the stack's own by
    default)."""
    if disabled is None:
        disabled = render.config.wire().get(DISABLED, "")
    registered = {
        r.urn: r.type.removeprefix(PROVIDER_PREFIX)
        for r in render.resources
        if r.type.startswith(PROVIDER_PREFIX)
    }
    problems: list[str] = []
    calls = [(c.token, f"invoke {c.token}", c.provider) for c in invoked]
    for token, what, provider in [
        *((r.type, f"{r.type} {r.name}", r.provider) for r in render.resources if _needs(r)),
        *calls,
    ]:
        pkg = package(token)
        if provider is not None:
            urn = provider.rsplit("::", 1)[0]
            if registered.get(urn) != pkg:
                problems.append(f"{what}: provider {urn} is not a '{pkg}' provider it registered")
        elif denied(pkg, disabled):
            problems.append(f"{what}: Default provider for '{pkg}' disabled (no explicit provider)")
        elif pkg not in DYNAMIC_PACKAGES and pkg != "pulumi":
            problems.append(f"{what}: uses the default '{pkg}' provider; register an explicit one")
    return problems


def _needs(r: mocks.Registered) -> bool:
    """A custom resource that is not itself a provider (providers are the engine's own)."""
    return r.custom and not r.type.startswith(PROVIDER_PREFIX)


@pytest.fixture(scope="module")
def runs(
    render_stack: Renderer,
) -> Iterator[dict[tuple[str, tuple[str, ...]], tuple[Render, list[mocks.Invoked]]]]:
    """Each of :data:`RENDERS`, with the invokes its run made."""
    renders = {(s, tuple(sets)): render_stack(s, sets) for s, sets in RENDERS}
    yield {key: (render, render.invoked) for key, render in renders.items()}


# --- explicit providers ------------------------------------------------------------------------


def test_default_providers_are_disabled_for_the_cloud_packages_only() -> None:
    value = stackfile.merged("prod").wire()[DISABLED]
    assert sorted(json.loads(value)) == sorted(CLOUD_PACKAGES)
    assert all(denied(p, value) for p in CLOUD_PACKAGES)
    # "*" would deny the dynamic ObjectAclGrant too, which cannot take an explicit provider.
    assert not any(denied(p, value) for p in DYNAMIC_PACKAGES)
    assert denied("pulumi-python", '["*"]') and not denied("pulumi", '["*"]')


@pytest.mark.parametrize(("stack", "sets"), RENDERS, ids=str)
def test_every_resource_and_invoke_names_a_provider_the_program_registered(
    runs: dict[tuple[str, tuple[str, ...]], tuple[Render, list[mocks.Invoked]]],
    stack: str,
    sets: tuple[str, ...],
) -> None:
    render, invoked = runs[(stack, sets)]
    assert default_provider_requests(render, invoked) == []
    packages = {package(r.type) for r in render.resources if _needs(r)}
    gke = render.config.values.get("gke-bluegreen:platform") == "gke"
    assert packages >= ({"gcp", "kubernetes", "docker"} if gke else {"kubernetes", "docker"})
    if gke:
        (call,) = [c for c in invoked if c.token == CLIENT_CONFIG]
        assert call.provider is not None


def test_the_check_refuses_what_the_engine_would(
    runs: dict[tuple[str, tuple[str, ...]], tuple[Render, list[mocks.Invoked]]],
) -> None:
    prod, invoked = runs[("prod", ())]

    def without_provider(typ: str) -> Render:
        return replace(
            prod,
            resources=[replace(r, provider=None) if r.type == typ else r for r in prod.resources],
        )

    (cluster,) = default_provider_requests(without_provider(CLUSTER), invoked)
    assert "gke-cluster: Default provider for 'gcp' disabled" in cluster
    assert default_provider_requests(without_provider(DEPLOYMENT), invoked) == [
        f"{DEPLOYMENT} imageview-{c}: Default provider for 'kubernetes' disabled "
        "(no explicit provider)"
        for c in ("blue", "green")
    ]
    (call,) = default_provider_requests(prod, [mocks.Invoked(token=CLIENT_CONFIG, provider=None)])
    assert call.startswith(f"invoke {CLIENT_CONFIG}: Default provider for 'gcp' disabled")
    docker_ref = next(r.provider for r in prod.resources if r.type == "docker:index/image:Image")
    wrong = replace(
        prod,
        resources=[
            replace(r, provider=docker_ref) if r.type == CLUSTER else r for r in prod.resources
        ],
    )
    (mixed,) = default_provider_requests(wrong, invoked)
    assert "is not a 'gcp' provider" in mixed
    # With "*", every dynamic resource would be refused (S1's ObjectAclGrant, the release's
    # scale-down pause): none can take an explicit provider.
    legacy, legacy_invoked = runs[("dev", RENDERS[-1][1])]
    assert legacy.of_type(ACL_GRANT)
    assert default_provider_requests(legacy, legacy_invoked) == []
    star = default_provider_requests(legacy, legacy_invoked, disabled='["*"]')
    dynamic = [r for r in legacy.resources if package(r.type) in DYNAMIC_PACKAGES]
    assert sorted(star) == sorted(
        f"{r.type} {r.name}: Default provider for 'pulumi-python' disabled (no explicit provider)"
        for r in dynamic
    )
    assert f"{ACL_GRANT} registry-public-objects" in " ".join(star)


def test_a_resource_registered_without_a_provider_is_refused() -> None:
    # A resource registered without a provider: the SDK sends no provider reference, and the
    # engine asks for the (disabled) default one.
    def body() -> None:
        gcp.serviceaccount.Account("nodes", account_id="nodes", project="p")
        random = pulumi.CustomResource("random:index/randomId:RandomId", "id", {})
        assert random is not None

    render = program.run(stackfile.merged("prod"), program=body)
    assert sorted(default_provider_requests(render, [])) == [
        "gcp:serviceaccount/account:Account nodes: Default provider for 'gcp' disabled "
        "(no explicit provider)",
        "random:index/randomId:RandomId id: uses the default 'random' provider; register an "
        "explicit one",
    ]


def test_children_take_their_parents_provider_for_their_package() -> None:
    """What the platform relies on (pulumi/pulumi sdk/python/lib/pulumi/resource.py at
    1b59498, ``Resource.__init__`` / ``_get_providers``): a component's
    ``providers=[...]`` reaches its children and grandchildren by package, and no other."""

    def body() -> None:
        google = gcp.Provider("g", project="p", region="r")
        outer = pulumi.ComponentResource(
            "t:index:Outer", "outer", None, pulumi.ResourceOptions(providers=[google])
        )
        inner = pulumi.ComponentResource(
            "t:index:Inner", "inner", None, pulumi.ResourceOptions(parent=outer)
        )
        gcp.serviceaccount.Account(
            "child", account_id="child", opts=pulumi.ResourceOptions(parent=outer)
        )
        gcp.serviceaccount.Account(
            "grandchild", account_id="grandchild", opts=pulumi.ResourceOptions(parent=inner)
        )
        docker.Image(
            "other-package",
            image_name="x",
            skip_push=True,
            opts=pulumi.ResourceOptions(parent=inner),
        )
        k8s.core.v1.ConfigMap("also-other", opts=pulumi.ResourceOptions(parent=inner))

    render = program.run(stackfile.merged("prod"), program=body)
    (google,) = render.of_type("pulumi:providers:gcp")
    by_name = {r.name: r.provider for r in render.resources if _needs(r)}
    assert by_name["child"] == by_name["grandchild"] == f"{google.urn}::g-id"
    assert by_name["other-package"] is None and by_name["also-other"] is None


@pytest.mark.parametrize("stack", [s for s in stackfile.stack_names() if s != "local"])
def test_the_gcp_provider_is_the_stacks_project_and_region(
    render_stack: Renderer, stack: str
) -> None:
    r = render_stack(stack)
    project = r.config.values["gke-bluegreen:project"]
    (google,) = r.of_type("pulumi:providers:gcp")
    assert plain(google) == {"project": project, "region": r.config.values["gke-bluegreen:region"]}
    # And no resource names another project.
    for x in r.resources:
        if x.type.startswith("gcp:") and "project" in x.inputs:
            assert plain(x)["project"] == project, f"{stack}: {x.type} {x.name}"


def test_the_local_stack_has_no_gcp_provider_and_its_own_docker_and_kubernetes(
    render_stack: Renderer,
) -> None:
    r = render_stack("local")
    assert not r.of_type("pulumi:providers:gcp")
    assert [p.name for p in r.of_type("pulumi:providers:docker")] == ["docker"]
    assert [p.name for p in r.of_type("pulumi:providers:kubernetes")] == ["local"]


#: The local stack's apps; every color of each is built from source unless pinned.
LOCAL_APPS = ("py-web-server", "kubia", "node-app")


#: A smoke client image the local stack may pin (``smoke.image``).
SMOKE_PIN = f"smoke:src-{'1' * 12}"


def local_pins(
    *,
    smoke: bool,
    except_color: tuple[str, str] | None = None,
    smoke_pinned: tuple[str, ...] = (),
) -> list[str]:
    """Overrides pinning every color of the local stack (but ``except_color``), smoke on or off,
    and the smoke client of the apps ``smoke_pinned``. ``<app>:src-<12 hex>`` is a reference the
    local stack allows."""
    pins = [
        f"apps.{app}.colors.{color}.image={app}:src-{'0' * 12}"
        for app in LOCAL_APPS
        for color in COLORS
        if (app, color) != except_color
    ]
    pins += [f"apps.{app}.smoke.image={SMOKE_PIN}" for app in smoke_pinned]
    return pins + [f"apps.{app}.smoke.enabled={str(smoke).lower()}" for app in LOCAL_APPS]


def test_a_stack_that_builds_no_image_registers_no_docker_provider(
    render_stack: Renderer,
) -> None:
    """The engine loads a provider's plugin for the provider resource itself, so a stack that
    builds nothing must not register one (the real tier has no Docker plugin: docs/real-tier.md)."""
    for sets in (local_pins(smoke=False), local_pins(smoke=True, smoke_pinned=LOCAL_APPS)):
        r = render_stack("local", sets)
        assert [
            x.type for x in r.resources if package(x.type.removeprefix(PROVIDER_PREFIX)) == "docker"
        ] == []
        assert [p.name for p in r.of_type("pulumi:providers:kubernetes")] == ["local"]
        assert r.of_type(DEPLOYMENT), "the apps are still deployed, on their pinned images"
        assert default_provider_requests(r, r.invoked) == []
    # Any one build brings the provider back: the smoke client of one app without a pin, or a
    # single unpinned color.
    for sets, built in [
        (local_pins(smoke=True), ["smoke-image"]),
        (local_pins(smoke=True, smoke_pinned=("kubia", "node-app")), ["smoke-image"]),
        (local_pins(smoke=False, except_color=("node-app", "green")), ["node-app-image"]),
    ]:
        r = render_stack("local", sets)
        assert [p.name for p in r.of_type("pulumi:providers:docker")] == ["docker"]
        assert [x.name for x in r.of_type("docker:index/image:Image")] == built
        assert default_provider_requests(r, r.invoked) == []


# --- what a stack keeps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "sets", "kept"),
    [
        ("prod", (), True),
        ("prod", ("cluster.deletionProtection=false",), False),
        ("dev", (), False),
        ("imageview", (), False),
        ("imageview", ("cluster.deletionProtection=true",), True),
    ],
    ids=str,
)
def test_the_cluster_and_the_registry_are_kept_while_deletion_protection_is_on(
    render_stack: Renderer, stack: str, sets: tuple[str, ...], kept: bool
) -> None:
    r = render_stack(stack, sets)
    options = {(x.type, x.name): (x.protect, x.retain_on_delete) for x in r.resources}
    (cluster,) = r.of_type(CLUSTER)
    (repository,) = r.of_type(REPOSITORY)
    assert plain(cluster)["deletionProtection"] is kept
    # The cluster is protected, never retained: all it holds is declared here, and a retained
    # cluster would run on, billed, outside the state.
    assert options.pop((CLUSTER, cluster.name)) == (kept, False)
    # The repository holds every release's images: protected and retained.
    assert options.pop((REPOSITORY, repository.name)) == (kept, kept)
    # Nothing else: not the node pool (replacing it is routine), not the components (whose
    # protect their children would inherit), not the IAM bindings on the repository.
    assert {k for k, v in options.items() if v != (False, False)} == set()
