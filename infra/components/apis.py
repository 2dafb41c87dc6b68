"""The Google APIs a stack uses, enabled before anything that needs them (S4's first step: enable
the Kubernetes Engine, Container Registry and Cloud Build APIs), and never disabled by
``pulumi destroy``: another stack, or a person, may be using them in the same project.

``serviceusage.googleapis.com`` itself must already be on to enable the others (it is on new
projects by default); ``infra.doctor`` says so when it cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.settings import RegistrySettings

#: Always needed on the gke platform: GKE, its nodes and networks, the node service account and
#: its project role binding.
BASE = (
    "container.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
)


#: A stack with canary apps: its dashboard (infra/components/dashboard.py) and the release
#: tool's analysis between steps read the load balancer's metrics.
MONITORING = "monitoring.googleapis.com"


def required(registry: RegistrySettings, *, canary: bool = False) -> tuple[str, ...]:
    """Every API a stack with this registry (and with canary apps, when ``canary``) uses."""
    store = (
        "storage.googleapis.com"
        if registry.mode == "legacy-bucket"
        else ("artifactregistry.googleapis.com")
    )
    return (*BASE, store, *((MONITORING,) if canary else ()))


@dataclass(frozen=True, kw_only=True)
class ProjectApisArgs:
    """Inputs of :class:`ProjectApis`."""

    project: str
    """GCP project id."""
    apis: tuple[str, ...]
    """Service names, e.g. ``container.googleapis.com``."""


class ProjectApis(pulumi.ComponentResource):
    """One ``gcp.projects.Service`` per API; depend on this component to wait for all of them."""

    enabled: pulumi.Output[list[str]]
    """The APIs, once enabled."""

    def __init__(
        self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:ProjectApis", name, None, opts)
        services = [
            gcp.projects.Service(
                f"{name}-{api.split('.', 1)[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in args.apis
        ]
        self.enabled = pulumi.Output.all(*(s.service for s in services))
        self.register_outputs({"enabled": self.enabled})
