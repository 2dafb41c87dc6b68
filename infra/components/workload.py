"""A blue/green app: per color its ConfigMaps and Secret, Deployment, own Service, disruption
budget and smoke Job; the live and preview Services; the pause before the old color scales down;
for a canary app, its route on the stack's Gateway (:mod:`infra.components.route`).

Each color gets its own snapshot of the app's ConfigMaps and Secret. They are auto-named
(``<logical name>-<suffix>``), and pulumi-kubernetes replaces an auto-named ConfigMap or Secret
when its data changes, so a change makes a new object, the Deployment that uses it rolls, and
the other color, which still points at its own snapshot, does not roll.

Order, every update: the active color's Deployment is ready (pulumi-kubernetes awaits it) → its
smoke Job completes through the color's own Service → the live Service selects it → the pause
(``scaleDownDelaySeconds``, only after a cutover that scales the old color down) → the idle color
(scaled to ``idleReplicas``) → its smoke Job. A color whose Job fails is never switched to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import cutover, hardening, naming
from infra.components import smoke
from infra.components.delay import ScaleDownDelay, ScaleDownDelayArgs
from infra.components.gateway import GatewayRef
from infra.components.route import AppRoute, AppRouteArgs
from infra.components.service import SKIP_AWAIT, AppService, AppServiceArgs
from infra.settings import AppSettings, Color, ColorSettings

_core = k8s.core.v1
_meta = k8s.meta.v1
#: Writable scratch space; the root filesystem is read-only.
_TMP_MOUNT = "/tmp"  # noqa: S108 - an emptyDir mount point, not a temp file


@dataclass(frozen=True, kw_only=True)
class BlueGreenAppArgs:
    """Inputs of :class:`BlueGreenApp`."""

    app: AppSettings
    """The app."""
    images: Mapping[Color, pulumi.Input[str]]
    """Image reference per color (a digest reference when pushed)."""
    secret_values: Mapping[Color, Mapping[str, pulumi.Output[str]]] | None
    """Per color, the secret values it reads (secret Outputs), when the app declares a Secret."""
    smoke_image: pulumi.Input[str] | None = None
    """The smoke client's image (apps/smoke); ``None``: no smoke Jobs."""
    await_load_balancer: bool = True
    """Wait for the live Service's load balancer address (see :class:`AppServiceArgs`)."""
    gateway: GatewayRef | None = None
    """The stack's Gateway; a canary app's route attaches to it."""


@dataclass(frozen=True)
class _Color:
    color: Color
    deployment: k8s.apps.v1.Deployment
    gate: pulumi.Resource
    """What proves the color ready for traffic: its smoke Job, else its Deployment."""
    service: k8s.core.v1.Service
    """The color's own Service."""


class BlueGreenApp(pulumi.ComponentResource):
    """Both colors of one app and its Services. Give it the Kubernetes provider as
    ``ResourceOptions(providers=[...])``: every Kubernetes object below it takes that one."""

    deployments: dict[Color, k8s.apps.v1.Deployment]
    """Deployment per color."""
    color_services: dict[Color, k8s.core.v1.Service]
    """Each color's own Service (a canary's route sends traffic to these)."""
    service: AppService
    """Live and preview Services."""
    active_color: pulumi.Output[str]
    """The color the live Service selects."""
    summary: dict[str, pulumi.Output[str]]
    """The app's stack outputs: ``url``, ``address``, ``active_color``, ``preview_service``."""

    def __init__(
        self, name: str, args: BlueGreenAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:BlueGreenApp", name, None, opts)
        app = args.app
        self.deployments = {}
        # Active color first, then the Services, then the idle color (see module docstring).
        active = self._color(name, args, app.active_color, after=[])
        self.service = AppService(
            name,
            AppServiceArgs(
                app=app,
                gate=active.gate,
                await_load_balancer=args.await_load_balancer,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        idle = cutover.idle_color(app)
        pause = ScaleDownDelay(
            naming.scale_down_delay_resource(name),
            ScaleDownDelayArgs(
                active_color=app.active_color,
                seconds=app.scale_down_delay_seconds,
                scales_down=cutover.scales_down_after_cutover(app),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service.live]),
        )
        standby = self._color(name, args, idle, after=[pause])
        self.color_services = {c.color: c.service for c in (active, standby)}
        self._network_policy(name, app)
        url, address = self.service.url, self.service.address
        if app.strategy == "canary":
            assert args.gateway is not None, f"{app.name}: a canary app needs the stack's Gateway"
            route = AppRoute(
                naming.http_route_resource(name),
                AppRouteArgs(
                    app=app,
                    gateway=args.gateway,
                    services={c.color: c.service for c in (active, standby)},
                    gates=[active.gate, standby.gate],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            url, address = route.url, route.address
        self.active_color = pulumi.Output.from_input(app.active_color)
        self.summary = {
            "url": url,
            "address": address,
            "active_color": self.active_color,
            "preview_service": self.service.preview_name,
        }
        self.register_outputs(self.summary)

    def _child(self, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on)

    def _network_policy(self, name: str, app: AppSettings) -> None:
        """Both colors accept traffic on their serving port only (from anywhere: the load
        balancer, the preview and color Services' clients, the smoke Jobs); every other port is
        closed. Enforced by GKE Dataplane V2, which the cluster enables."""
        selector_labels = cutover.app_labels(app)
        k8s.networking.v1.NetworkPolicy(
            naming.network_policy_resource(name),
            metadata=_meta.ObjectMetaArgs(name=naming.network_policy(app), labels=selector_labels),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=_meta.LabelSelectorArgs(match_labels=selector_labels),
                policy_types=["Ingress"],
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(
                                port=app.port_name, protocol="TCP"
                            )
                        ]
                    )
                ],
            ),
            opts=self._child(),
        )

    def _color(
        self, name: str, args: BlueGreenAppArgs, color: Color, after: list[pulumi.Resource]
    ) -> _Color:
        """One color: config snapshot, Deployment, disruption budget, own Service, smoke Job."""
        app = args.app
        deployment = self._deployment(name, args, color, depends_on=after)
        labels = cutover.selector(app, color)
        k8s.policy.v1.PodDisruptionBudget(
            naming.disruption_budget_resource(name, color),
            metadata=_meta.ObjectMetaArgs(name=naming.disruption_budget(app, color), labels=labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                # A drain or node upgrade takes one pod of a color at a time; with one replica it
                # may take that one (minAvailable would block the drain forever).
                max_unavailable=1,
                selector=_meta.LabelSelectorArgs(match_labels=labels),
            ),
            opts=self._child(),
        )
        own_service = _core.Service(
            naming.color_service_resource(name, color),
            metadata=_meta.ObjectMetaArgs(
                name=naming.color_service(app, color),
                labels={**labels, "role": "color"},
                # The color may run no pods (idleReplicas: 0); its pods' readiness is awaited
                # on the Deployment, its answers by the smoke Job.
                annotations=SKIP_AWAIT,
            ),
            spec=_core.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[
                    _core.ServicePortArgs(
                        name=app.port_name,
                        port=app.service.port,
                        target_port=app.port_name,
                        protocol="TCP",
                    )
                ],
            ),
            opts=self._child(),
        )
        if args.smoke_image is None or not app.smoke.enabled:
            return _Color(color=color, deployment=deployment, gate=deployment, service=own_service)
        check = smoke.job(
            name,
            app,
            color,
            image=args.smoke_image,
            target=args.images[color],
            opts=self._child([deployment, own_service]),
        )
        return _Color(color=color, deployment=deployment, gate=check, service=own_service)

    def _deployment(
        self, name: str, args: BlueGreenAppArgs, color: Color, depends_on: list[pulumi.Resource]
    ) -> k8s.apps.v1.Deployment:
        app = args.app
        spec = app.colors[color]
        labels = cutover.selector(app, color)
        map_names = {
            cm: _core.ConfigMap(
                naming.config_map_resource(cm, color),
                metadata=_meta.ObjectMetaArgs(labels=labels),
                data=dict(data),
                opts=self._child(),
            ).metadata.name
            for cm, data in spec.config_maps.items()
        }
        secret_name: pulumi.Output[str] | None = None
        if app.secret is not None and args.secret_values is not None:
            secret_name = _core.Secret(
                naming.secret_resource(app.secret.name, color),
                metadata=_meta.ObjectMetaArgs(labels=labels),
                type="Opaque",
                string_data=dict(args.secret_values[color]),
                opts=self._child(),
            ).metadata.name

        deployment = k8s.apps.v1.Deployment(
            naming.deployment_resource(name, color),
            metadata=_meta.ObjectMetaArgs(name=naming.deployment(app, color), labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=cutover.replicas(app, color),
                selector=_meta.LabelSelectorArgs(match_labels=labels),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge="25%", max_unavailable=0
                    ),
                ),
                template=_core.PodTemplateSpecArgs(
                    metadata=_meta.ObjectMetaArgs(labels=labels),
                    spec=_pod_spec(app, spec, args.images[color], map_names, secret_name),
                ),
            ),
            opts=self._child(depends_on),
        )
        self.deployments[color] = deployment
        return deployment


def _env(
    spec: ColorSettings,
    maps: Mapping[str, pulumi.Output[str]],
    secret_name: pulumi.Output[str] | None,
) -> list[_core.EnvVarArgs]:
    env: list[_core.EnvVarArgs] = []
    for var in spec.env:
        if var.value is not None:
            env.append(_core.EnvVarArgs(name=var.name, value=var.value))
        elif var.ref_kind == "configMap" and var.ref_name is not None and var.key is not None:
            env.append(
                _core.EnvVarArgs(
                    name=var.name,
                    value_from=_core.EnvVarSourceArgs(
                        config_map_key_ref=_core.ConfigMapKeySelectorArgs(
                            name=maps[var.ref_name], key=var.key
                        )
                    ),
                )
            )
        elif var.ref_kind == "secret" and secret_name is not None and var.key is not None:
            env.append(
                _core.EnvVarArgs(
                    name=var.name,
                    value_from=_core.EnvVarSourceArgs(
                        secret_key_ref=_core.SecretKeySelectorArgs(name=secret_name, key=var.key)
                    ),
                )
            )
    return env


def _pod_spec(
    app: AppSettings,
    spec: ColorSettings,
    image: pulumi.Input[str],
    maps: Mapping[str, pulumi.Output[str]],
    secret_name: pulumi.Output[str] | None,
) -> _core.PodSpecArgs:
    port = app.port_name

    def probe(path: str, period: int, failures: int) -> _core.ProbeArgs:
        return _core.ProbeArgs(
            http_get=_core.HTTPGetActionArgs(path=path, port=port),
            period_seconds=period,
            timeout_seconds=cutover.PROBE_TIMEOUT_S,
            failure_threshold=failures,
        )

    container = _core.ContainerArgs(
        name=app.container_name,
        image=image,
        ports=[
            _core.ContainerPortArgs(name=port, container_port=app.container_port, protocol="TCP")
        ],
        env=[
            *_env(spec, maps, secret_name),
            _core.EnvVarArgs(name=cutover.PORT_ENV, value=str(app.container_port)),
            # The apps answer it in X-Color: requests counted by the color that served them.
            _core.EnvVarArgs(name=cutover.COLOR_ENV, value=spec.color),
        ],
        readiness_probe=probe(
            app.readiness_path,
            period=cutover.READINESS_PERIOD_S,
            failures=cutover.READINESS_FAILURES,
        ),
        liveness_probe=probe(app.liveness_path, period=10, failures=3),
        # Keep serving while the endpoints controller and load balancers drop this pod;
        # SIGTERM (and the app's own drain) comes after.
        lifecycle=_core.LifecycleArgs(
            pre_stop=_core.LifecycleHandlerArgs(
                sleep=_core.SleepActionArgs(seconds=app.drain_seconds)
            )
        )
        if app.drain_seconds
        else None,
        resources=_core.ResourceRequirementsArgs(
            requests={"cpu": app.resources.cpu_request, "memory": app.resources.memory_request},
            limits={"cpu": app.resources.cpu_limit, "memory": app.resources.memory_limit},
        ),
        security_context=hardening.container_security(),
        volume_mounts=[_core.VolumeMountArgs(name="tmp", mount_path=_TMP_MOUNT)],
    )
    labels = cutover.selector(app, spec.color)
    return _core.PodSpecArgs(
        containers=[container],
        # Each color's pods spread over nodes and zones, so losing one takes no color down.
        # ScheduleAnyway: a 3-node lab cluster during a node upgrade must still schedule. The two
        # colors are not kept apart: anti-affinity would halve the nodes a color may use and
        # block a cutover on a small cluster; requests keep each color's share (no starving).
        topology_spread_constraints=[
            _core.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key=key,
                when_unsatisfiable="ScheduleAnyway",
                label_selector=_meta.LabelSelectorArgs(match_labels=labels),
            )
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ],
        automount_service_account_token=False,
        termination_grace_period_seconds=app.termination_grace_seconds,
        security_context=hardening.pod_security(app.run_as_user),
        volumes=[
            _core.VolumeArgs(
                name="tmp", empty_dir=_core.EmptyDirVolumeSourceArgs(size_limit="16Mi")
            )
        ],
    )
