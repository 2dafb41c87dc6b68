"""The policy rules of gke-bluegreen, as plain functions, and ``RULES``, the one table of them
that the CrossGuard pack (``policy/__main__.py``) and the offline runner (``policy.offline``) read.

Most rules are a function ``check(resource_type, inputs, ctx) -> list[str]`` over one resource's
Pulumi type token and its camelCase inputs (what CrossGuard and the offline render both see), plus
a small :class:`~.model.Context` (stack name and stack config). It returns one message per
violation, and an empty list when the resource complies or the rule does not apply to its type. A
rule about how Pulumi treats a resource rather than what it is (``protect``) checks its
:class:`~.model.Options` instead (``options_check``). A few rules also check the stack's config on
its own (``stack_check``), so a bad setting is caught even when the program would not turn it into
a resource.

The rules live by what they look at: ``pods`` (pods and containers), ``services`` (Services and
networking), ``registry_cluster`` (registry access, node identity), ``release_safety`` (what
keeps prod whole across releases) and ``gateway`` (a canary's Gateway, routes and health checks);
``model`` holds what they share. A rule that relates resources to each other checks them all
together (``resources_check``).

The pack imports this package as the top-level ``rules`` (the pack directory is first on
``sys.path`` in the pack's venv), the project as ``policy.rules``: imports inside the package are
relative, so both work. Nothing here imports ``pulumi_policy``, which only the pack's venv has.
"""

from __future__ import annotations

from .gateway import (
    check_gateway_class,
    check_gateway_class_config,
    check_gke_supported,
    check_health_check_per_color,
    check_route_keeps_both_colors,
    check_route_own_colors,
)
from .model import Level, Rule
from .pods import (
    check_hardening,
    check_image_digest,
    check_no_plain_secret,
    check_non_root,
    check_probes,
    check_resources,
)
from .registry_cluster import (
    check_node_service_account,
    check_public_read,
    check_public_read_config,
)
from .release_safety import (
    check_prod_deletion_protection,
    check_prod_deletion_protection_config,
    check_prod_kept,
    check_prod_replicas,
)
from .services import check_load_balancer_declared

RULES: tuple[Rule, ...] = (
    Rule(
        name="registry-no-public-read",
        level=Level.MANDATORY,
        check=check_public_read,
        stack_check=check_public_read_config,
        description="No public registry read unless the stack opts in; never in prod.",
    ),
    Rule(
        name="node-pool-dedicated-service-account",
        level=Level.MANDATORY,
        check=check_node_service_account,
        description="Node pools never run as the Compute default service account.",
    ),
    Rule(
        name="prod-deletion-protection",
        level=Level.MANDATORY,
        check=check_prod_deletion_protection,
        stack_check=check_prod_deletion_protection_config,
        description="The prod GKE cluster keeps deletion protection on.",
    ),
    Rule(
        name="prod-stateful-kept",
        level=Level.MANDATORY,
        options_check=check_prod_kept,
        description=(
            "The prod cluster and registry repository are protected; the repository is retained."
        ),
    ),
    Rule(
        name="container-non-root",
        level=Level.MANDATORY,
        check=check_non_root,
        description="Containers run as non-root, unprivileged, without privilege escalation.",
    ),
    Rule(
        name="container-resources",
        level=Level.MANDATORY,
        check=check_resources,
        description="Containers declare cpu and memory requests and limits.",
    ),
    Rule(
        name="container-probes",
        level=Level.MANDATORY,
        check=check_probes,
        description="Serving containers have readiness and liveness probes; Jobs a deadline.",
    ),
    Rule(
        name="image-by-digest",
        level=Level.MANDATORY,
        check=check_image_digest,
        description="Container images are referenced by digest.",
    ),
    Rule(
        name="load-balancer-declared",
        level=Level.MANDATORY,
        check=check_load_balancer_declared,
        description="A LoadBalancer Service exists only for an app that declares one.",
    ),
    Rule(
        name="no-plain-secret",
        level=Level.MANDATORY,
        check=check_no_plain_secret,
        description="Secrets come from a Secret, never a plain env value or ConfigMap.",
    ),
    Rule(
        name="canary-route-own-colors",
        level=Level.MANDATORY,
        check=check_route_own_colors,
        description="A canary app's HTTPRoute splits only between the app's own two colors.",
    ),
    Rule(
        name="canary-route-keeps-both-colors",
        level=Level.MANDATORY,
        check=check_route_keeps_both_colors,
        description="A canary's split keeps both colors with explicit weights, the idle one at 0.",
    ),
    Rule(
        name="canary-gateway-class-splits",
        level=Level.MANDATORY,
        check=check_gateway_class,
        stack_check=check_gateway_class_config,
        description="The Gateway's GatewayClass splits traffic by weight on one cluster.",
    ),
    Rule(
        name="canary-health-check-per-color",
        level=Level.MANDATORY,
        resources_check=check_health_check_per_color,
        description="Every Service an HTTPRoute sends to has a HealthCheckPolicy.",
    ),
    Rule(
        name="gke-gateway-supported",
        level=Level.MANDATORY,
        check=check_gke_supported,
        description="Gateway objects use only what GKE accepts, on a cluster that serves them.",
    ),
    Rule(
        name="container-hardening",
        level=Level.ADVISORY,
        check=check_hardening,
        description="Read-only root fs, capabilities dropped, seccomp, no token automount.",
    ),
    Rule(
        name="prod-replicas",
        level=Level.ADVISORY,
        check=check_prod_replicas,
        description="The live color's Deployment in prod runs at least two replicas.",
    ),
)
"""Every rule, in the order the pack lists them."""
