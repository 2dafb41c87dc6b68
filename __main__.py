"""gke-bluegreen: wires one stack's components together. All logic lives in infra/."""

import pulumi

from infra import config
from infra.components.dashboard import canary_dashboard
from infra.components.image import color_images, smoke_images
from infra.components.platform import deploy_target
from infra.components.workload import BlueGreenApp, BlueGreenAppArgs

settings = config.load()
platform = deploy_target(settings)
smoke = smoke_images(list(settings.apps.values()), platform.images)

apps: dict[str, dict[str, object]] = {}
color_services = {}
for app in settings.apps.values():
    images = color_images(app, platform.images)
    workload = BlueGreenApp(
        app.name,
        BlueGreenAppArgs(
            app=app,
            images=images.refs,
            secret_values=settings.secrets.by_color(app.name),
            smoke_image=smoke.get(app.name),
            await_load_balancer=platform.has_load_balancers,
            gateway=platform.gateway,
        ),
        opts=pulumi.ResourceOptions(providers=[platform.kubernetes]),
    )
    apps[app.name] = {**workload.summary, "images": images.refs, "tags": images.tags}
    color_services[app.name] = workload.color_services

canary_dashboard(settings, color_services, platform.gcp, platform.apis)

for key, value in platform.exports.items():
    pulumi.export(key, value)
pulumi.export("apps", apps)
