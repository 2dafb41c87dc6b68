"""The smoke Job of one color: a batch/v1 Job that runs ``apps/smoke/smoke.py`` against the
color's own Service and must complete before the live Service selects that color.

pulumi-kubernetes awaits a Job until its ``Complete`` condition is ``True`` and fails the update
at once when its ``Failed`` condition is ``True`` (pulumi/pulumi-kubernetes
provider/pkg/await/job.go at 9497796), by default for up to 10 minutes. The live Service depends
on the active color's Job, so a color whose Job fails is never switched to: the update stops with
the Job's log.

A Job's pod template cannot change, and its name carries a fingerprint of what it tests (the
image the color runs, its config digest, the smoke settings) and of the client that tests it (the
smoke image): a new release is a new Job that
replaces the previous one (created first, then the old one deleted), so Jobs never accumulate and
an unchanged color is not tested twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pulumi
import pulumi_kubernetes as k8s

from infra import cutover, hardening, naming
from infra.settings import AppSettings, Color

_core = k8s.core.v1
_meta = k8s.meta.v1
#: The smoke image's user (apps/smoke/Dockerfile).
RUN_AS_USER = 10001
#: What a pulumi-kubernetes Job await may take beyond the Job's own deadline (scheduling, pull).
AWAIT_MARGIN_S = 120


def fingerprint(app: AppSettings, color: Color, target: str, client: str) -> str:
    """What the Job tests: the color's image (``target``) and config; and how: the smoke settings
    and the client's image. ``cutover.snapshot_digest`` leaves images out, so both are here. The
    client's image counts as the reference it is (``client``), not as how it was given: a pin of
    the very image the stack would build tests the same way, under the same Job name."""
    settings = dataclasses.asdict(app.smoke)
    del settings["image"]
    text = json.dumps(
        [target, client, cutover.snapshot_digest(app, color), settings],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def url(app: AppSettings, color: Color) -> str:
    """Where the Job reaches the color: its own Service, in the same namespace."""
    return f"http://{naming.color_service(app, color)}:{app.service.port}"


def environment(app: AppSettings, color: Color) -> dict[str, str]:
    """The smoke client's settings (apps/smoke/smoke.py)."""
    smoke = app.smoke
    return {
        "SMOKE_URL": url(app, color),
        "SMOKE_READY_PATH": app.readiness_path,
        "SMOKE_PATH": smoke.path,
        "SMOKE_STATUS": str(smoke.status),
        "SMOKE_TEXT": smoke.text,
        "SMOKE_ATTEMPTS": str(smoke.attempts),
        "SMOKE_INTERVAL": str(smoke.interval_seconds),
        "SMOKE_TIMEOUT": str(smoke.timeout_seconds),
    }


def job(
    name: str,
    app: AppSettings,
    color: Color,
    *,
    image: pulumi.Input[str],
    target: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """Registers the Job that runs the smoke client ``image`` against the color, which runs
    ``target``; ``opts`` carries the parent (whose Kubernetes provider it takes) and what it
    waits for."""
    labels = {**cutover.app_labels(app), "role": "smoke", "target-color": color}
    job_name = pulumi.Output.all(target, image).apply(
        lambda refs: naming.smoke_job(app, color, fingerprint(app, color, refs[0], refs[1]))
    )
    env = [_core.EnvVarArgs(name=k, value=v) for k, v in environment(app, color).items()]
    timeout = f"{app.smoke.deadline_seconds + AWAIT_MARGIN_S}s"
    return k8s.batch.v1.Job(
        naming.smoke_job_resource(name, color),
        metadata=_meta.ObjectMetaArgs(name=job_name, labels=labels),
        spec=k8s.batch.v1.JobSpecArgs(
            # The client retries itself; a failed pod is a failed check, not a flake to repeat.
            backoff_limit=0,
            active_deadline_seconds=app.smoke.deadline_seconds,
            template=_core.PodTemplateSpecArgs(
                metadata=_meta.ObjectMetaArgs(labels=labels),
                spec=_core.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    security_context=hardening.pod_security(RUN_AS_USER),
                    containers=[
                        _core.ContainerArgs(
                            name="smoke",
                            image=image,
                            env=env,
                            resources=_core.ResourceRequirementsArgs(
                                requests={"cpu": "10m", "memory": "32Mi"},
                                limits={"cpu": "100m", "memory": "64Mi"},
                            ),
                            security_context=hardening.container_security(),
                        )
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=timeout))
        ),
    )
