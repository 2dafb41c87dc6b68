"""A pause inside ``pulumi up``: the previous color keeps its pods for ``scaleDownDelaySeconds``
after the live Service moved away from it, before ``idleReplicas`` scales it down.

Why a pause at all: when the live Service's selector changes, kube-proxy on every node and the
cloud load balancer's health checks take seconds to stop sending new connections to the old pods,
and requests already in flight still need those pods to answer (Argo Rollouts waits 30 s by
default, ``scaleDownDelaySeconds``, for exactly this). Why here: the scale-down itself happens in
``pulumi up`` (the idle Deployment's replicas), so the pause must sit in the same dependency
chain: live Service → this resource → idle Deployment. A Pulumi dynamic resource does it with
what the project already runs: no controller and no extra provider plugin to install.

It sleeps only when the active color changes (an update of its ``active_color`` input); creating
it (a first deploy: nothing was live before) and reading it are instant. What sleeps is
:class:`infra.delay.DelayProvider`, which stays outside this package: Pulumi pickles it into the
state by its module path.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi.dynamic

from infra.delay import DelayProvider


@dataclass(frozen=True, kw_only=True)
class ScaleDownDelayArgs:
    """Inputs of :class:`ScaleDownDelay`."""

    active_color: str
    """The color the live Service selects; a change is a cutover, and the pause."""
    seconds: int
    """How long to pause after a cutover."""
    scales_down: bool
    """The idle color runs fewer pods than its full size (``idleReplicas``): only then is there
    anything to wait for."""


class ScaleDownDelay(pulumi.dynamic.Resource, module="release", name="ScaleDownDelay"):
    """Depend on it (and make it depend on the live Service) to scale the idle color down only
    ``seconds`` after a cutover."""

    active_color: pulumi.Output[str]
    """The active color it last paused for."""

    def __init__(
        self, name: str, args: ScaleDownDelayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            DelayProvider(),
            name,
            {
                "active_color": args.active_color,
                "seconds": args.seconds if args.scales_down else 0,
            },
            opts,
        )
