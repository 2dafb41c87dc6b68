"""The platform a stack deploys to, and everything that depends on it: the providers, where
images go and how docker logs in, what is protected from deletion, and the platform's own stack
outputs.

* :class:`~infra.settings.GkeTarget`: a GKE cluster (whose provider every Kubernetes object uses)
  and a registry the images are pushed to with the deployer's short-lived access token.
* :class:`~infra.settings.LocalTarget`: a kubeconfig context; images are built on the local engine
  and never pushed.

Every GCP, Docker and Kubernetes resource and invoke goes through a provider registered here:
Pulumi.yaml sets ``pulumi:disable-default-providers`` for those packages, so the engine refuses
one that would fall back to a default provider, whose project or cluster is whatever the
deployer's ambient credentials and kubeconfig point at (pulumi/pulumi
pkg/resource/deploy/default_providers.go at 1b59498). Each provider reaches the components that
use it as ``ResourceOptions(providers=[...])`` (GCP: the APIs, cluster and registry; Docker: each
image, registered only when the stack builds one; Kubernetes: each app): a child takes its
parent's provider for its package (pulumi/pulumi sdk/python/lib/pulumi/resource.py at 1b59498).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import naming
from infra.components import apis
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.gateway import GatewayRef, StackGateway, StackGatewayArgs
from infra.components.image import ImageDestination, RegistryLogin, builds_images
from infra.components.registry import Registry, RegistryArgs
from infra.settings import PROJECT, GkeTarget, Settings


@dataclass(frozen=True, kw_only=True)
class Platform:
    """What the apps of a stack deploy with."""

    kubernetes: pulumi.ProviderResource
    """The Kubernetes provider every Kubernetes object uses: give it to the apps' components as
    ``ResourceOptions(providers=[...])``."""
    images: ImageDestination
    """Where app images go."""
    has_load_balancers: bool = True
    """A LoadBalancer Service gets an address (GKE); on a local cluster it does not, unless
    ``minikube tunnel`` runs, so nothing waits for one there."""
    exports: dict[str, pulumi.Input[object]] = field(default_factory=dict)
    """Stack outputs of the platform (registry, cluster, kubeconfig)."""
    gateway: GatewayRef | None = None
    """The stack's GKE Gateway, when an app is a canary."""
    gcp: gcp.Provider | None = None
    """The stack's GCP provider (GKE stacks): for GCP resources registered after the apps."""
    apis: pulumi.Resource | None = None
    """The stack's enabled Google APIs (GKE stacks): what a GCP resource waits for."""


def labels(settings: Settings) -> dict[str, str]:
    """Labels on every GCP resource that takes them."""
    return {"managed-by": "pulumi", "project": PROJECT, "stack": settings.stack}


def keeps_state(target: GkeTarget) -> bool:
    """Whether the stack's stateful resources are kept from deletion: the cluster and the registry
    repository get Pulumi's ``protect``, the repository also ``retain_on_delete``.

    One switch, ``cluster.deletionProtection``: the stack's reviewed statement that what it runs
    must not be deleted, which GKE enforces on the cluster too. It defaults to on, so a new stack
    is protected unless it opts out (the labs do, so that ``pulumi destroy`` just works), and the
    policy pack makes it mandatory on prod (``prod-deletion-protection``), so only a deliberate
    run by hand, without the pack, turns it off (docs/delivery.md, "What prod keeps, and tearing
    it down")."""
    return target.cluster.deletion_protection


def deploy_target(settings: Settings) -> Platform:
    """Registers the platform's providers and resources (on GKE: cluster and registry) and
    returns what the apps deploy with."""
    target = settings.target
    # The engine reads DOCKER_HOST at Configure for a default provider; the SDK reads it here,
    # so `eval "$(minikube docker-env)"` still points the local stack's builds at Minikube. A
    # stack whose images are all pinned and that runs no smoke Job builds nothing: it registers
    # no Docker provider, and its engine needs no Docker plugin.
    builder = docker.Provider("docker") if builds_images(list(settings.apps.values())) else None
    if isinstance(target, GkeTarget):
        return _gke(target, labels(settings), builder)
    provider = k8s.Provider("local", context=target.kube_context)
    return Platform(
        kubernetes=provider,
        images=ImageDestination(repository_prefix="", login=None, provider=builder),
        has_load_balancers=False,
    )


def gcp_provider(target: GkeTarget) -> gcp.Provider:
    """The stack's GCP provider: its project and region, never the ones the SDK would otherwise
    read from the deployer's environment (``GOOGLE_PROJECT``, ``CLOUDSDK_CORE_PROJECT``...). Its
    zone is left to that environment and never used: every zonal resource names its location.

    No ``default_labels``: every resource that takes labels sets them itself, and provider
    default labels neither reach a GKE cluster (hashicorp/terraform-provider-google#19603) nor
    existing resources when added later (pulumi/pulumi-gcp#1275). The attribution label
    (``add_pulumi_attribution_label``) stays at the provider's default, as under the default
    provider this replaces, so the switch changes no resource's labels."""
    return gcp.Provider("gcp", project=target.project, region=target.region)


def _gke(target: GkeTarget, common: dict[str, str], builder: docker.Provider | None) -> Platform:
    google = gcp_provider(target)
    in_project = pulumi.ResourceOptions(providers=[google])
    keep = keeps_state(target)
    enabled = apis.ProjectApis(
        "apis",
        apis.ProjectApisArgs(
            project=target.project,
            apis=apis.required(target.registry, canary=target.gateway is not None),
        ),
        opts=in_project,
    )
    cluster = Cluster(
        "gke",
        ClusterArgs(
            settings=target.cluster,
            project=target.project,
            region=target.region,
            labels=common,
            keep=keep,
            after=[enabled],
            gateway_api=target.gateway is not None,
        ),
        opts=in_project,
    )
    gateway = None
    if target.gateway is not None:
        gateway = StackGateway(
            naming.GATEWAY_RESOURCE,
            StackGatewayArgs(
                settings=target.gateway,
                cluster=target.cluster.name,
                project=target.project,
                region=target.region,
                labels=common,
                after=[enabled],
            ),
            opts=pulumi.ResourceOptions(providers=[google, cluster.provider]),
        ).ref
    registry = Registry(
        "registry",
        RegistryArgs(
            settings=target.registry,
            project=target.project,
            reader_service_account=cluster.node_service_account,
            labels=common,
            keep=keep,
            after=[enabled],
        ),
        opts=in_project,
    )
    return Platform(
        kubernetes=cluster.provider,
        images=ImageDestination(
            repository_prefix=registry.url.apply(lambda url: f"{url}/"),
            login=access_token_login(target.registry.host(target.project), google),
            provider=builder,
        ),
        exports={
            "registry_url": registry.url,
            "registry_public": registry.public,
            "cluster_name": cluster.name,
            "cluster_endpoint": cluster.endpoint,
            "kubeconfig": cluster.kubeconfig,
        },
        gateway=gateway,
        gcp=google,
        apis=enabled,
    )


def access_token_login(server: str, provider: gcp.Provider) -> RegistryLogin:
    """Login with the deployer's current OAuth access token (valid about an hour, never stored
    as a long-lived key), read through the stack's GCP provider."""
    token = gcp.organizations.get_client_config_output(
        opts=pulumi.InvokeOptions(provider=provider)
    ).access_token
    return RegistryLogin(
        server=server, username="oauth2accesstoken", password=pulumi.Output.secret(token)
    )
