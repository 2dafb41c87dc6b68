"""gke-bluegreen: wires one stack's components together. All logic lives in infra/."""

import pulumi
import pulumi_kubernetes as k8s

from infra import config
from infra.cluster import Cluster, ClusterArgs
from infra.image import (
    AppImage,
    AppImageArgs,
    RegistryLogin,
    gcp_access_token_login,
    image_builds,
)
from infra.registry import Registry, RegistryArgs
from infra.workload import BlueGreenApp, BlueGreenAppArgs

settings = config.load()
labels = {"managed-by": "pulumi", "project": config.PROJECT, "stack": settings.stack}

if settings.cluster and settings.registry and settings.project and settings.region:
    cluster = Cluster(
        "gke",
        ClusterArgs(
            settings=settings.cluster,
            project=settings.project,
            region=settings.region,
            labels=labels,
        ),
    )
    registry = Registry(
        "registry",
        RegistryArgs(
            settings=settings.registry,
            project=settings.project,
            reader_service_account=cluster.node_service_account,
            labels=labels,
        ),
    )
    provider: pulumi.ProviderResource = cluster.provider
    login: RegistryLogin | None = gcp_access_token_login(settings.registry.host(settings.project))
    repository_prefix = registry.url.apply(lambda url: f"{url}/")
    pulumi.export("registry_url", registry.url)
    pulumi.export("registry_public", registry.public)
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
else:
    provider = k8s.Provider("local", context=settings.kube_context)
    login = None
    repository_prefix = pulumi.Output.from_input("")

app_outputs: dict[str, dict[str, object]] = {}
for app in settings.apps.values():
    images: dict[config.Color, pulumi.Input[str]] = {}
    for build in image_builds(app):
        image = AppImage(
            build.name,
            AppImageArgs(
                source=build.source,
                login=login,
                repository=pulumi.Output.concat(repository_prefix, app.name),
            ),
        )
        images.update(dict.fromkeys(build.colors, image.ref))
    for color in config.COLORS:
        pinned = app.colors[color].image
        if pinned:
            images[color] = pinned

    workload = BlueGreenApp(
        app.name,
        BlueGreenAppArgs(
            app=app,
            images=images,
            secret_values=settings.secrets.outputs(app.name),
            provider=provider,
        ),
    )
    app_outputs[app.name] = {
        "url": workload.service.url,
        "address": workload.service.address,
        "active_color": workload.active_color,
        "preview_service": workload.service.preview_name,
        "images": images,
    }

pulumi.export("apps", app_outputs)
