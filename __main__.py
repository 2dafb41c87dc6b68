"""gke-bluegreen: wires one stack's components together. All logic lives in infra/."""

import pulumi

from infra import config
from infra.image import color_images
from infra.platform import deploy_target
from infra.workload import BlueGreenApp, BlueGreenAppArgs

settings = config.load()
platform = deploy_target(settings)

apps: dict[str, dict[str, object]] = {}
for app in settings.apps.values():
    images = color_images(app, platform.images)
    workload = BlueGreenApp(
        app.name,
        BlueGreenAppArgs(
            app=app,
            images=images,
            secret_values=settings.secrets.outputs(app.name),
            provider=platform.provider,
            await_load_balancer=platform.has_load_balancers,
        ),
    )
    apps[app.name] = {**workload.summary, "images": images}

for key, value in platform.exports.items():
    pulumi.export(key, value)
pulumi.export("apps", apps)
