"""The platform a stack deploys to, and everything that depends on it: the Kubernetes provider,
where images go and how docker logs in, and the platform's own stack outputs.

* :class:`~infra.settings.GkeTarget`: a GKE cluster (whose provider every Kubernetes object uses)
  and a registry the images are pushed to with the deployer's short-lived access token.
* :class:`~infra.settings.LocalTarget`: a kubeconfig context; images are built on the local engine
  and never pushed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import apis
from infra.cluster import Cluster, ClusterArgs
from infra.image import ImageDestination, RegistryLogin
from infra.registry import Registry, RegistryArgs
from infra.settings import PROJECT, GkeTarget, Settings


@dataclass(frozen=True, kw_only=True)
class Platform:
    """What the apps of a stack deploy with."""

    provider: pulumi.ProviderResource
    """The Kubernetes provider every Kubernetes object uses."""
    images: ImageDestination
    """Where app images go."""
    has_load_balancers: bool = True
    """A LoadBalancer Service gets an address (GKE); on a local cluster it does not, unless
    ``minikube tunnel`` runs, so nothing waits for one there."""
    exports: dict[str, pulumi.Input[object]] = field(default_factory=dict)
    """Stack outputs of the platform (registry, cluster, kubeconfig)."""


def labels(settings: Settings) -> dict[str, str]:
    """Labels on every GCP resource that takes them."""
    return {"managed-by": "pulumi", "project": PROJECT, "stack": settings.stack}


def deploy_target(settings: Settings) -> Platform:
    """Registers the platform's resources (on GKE: cluster and registry) and returns what the
    apps deploy with."""
    target = settings.target
    if isinstance(target, GkeTarget):
        return _gke(target, labels(settings))
    provider = k8s.Provider("local", context=target.kube_context)
    return Platform(
        provider=provider,
        images=ImageDestination(repository_prefix="", login=None),
        has_load_balancers=False,
    )


def _gke(target: GkeTarget, common: dict[str, str]) -> Platform:
    enabled = apis.ProjectApis(
        "apis",
        apis.ProjectApisArgs(project=target.project, apis=apis.required(target.registry)),
    )
    cluster = Cluster(
        "gke",
        ClusterArgs(
            settings=target.cluster,
            project=target.project,
            region=target.region,
            labels=common,
            after=[enabled],
        ),
    )
    registry = Registry(
        "registry",
        RegistryArgs(
            settings=target.registry,
            project=target.project,
            reader_service_account=cluster.node_service_account,
            labels=common,
            after=[enabled],
        ),
    )
    return Platform(
        provider=cluster.provider,
        images=ImageDestination(
            repository_prefix=registry.url.apply(lambda url: f"{url}/"),
            login=access_token_login(target.registry.host(target.project)),
        ),
        exports={
            "registry_url": registry.url,
            "registry_public": registry.public,
            "cluster_name": cluster.name,
            "cluster_endpoint": cluster.endpoint,
            "kubeconfig": cluster.kubeconfig,
        },
    )


def access_token_login(server: str) -> RegistryLogin:
    """Login with the deployer's current OAuth access token (valid about an hour, never stored
    as a long-lived key)."""
    token = gcp.organizations.get_client_config_output().access_token
    return RegistryLogin(
        server=server, username="oauth2accesstoken", password=pulumi.Output.secret(token)
    )
