"""infra/components/smoke.py: every color's smoke Job, what it asks, how it runs, and how a new
release replaces it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.offline.program import Render
from tests.helpers import manifest

Renderer = Callable[..., Render]
JOB = "kubernetes:batch/v1:Job"


def jobs(r: Render) -> dict[str, dict[str, Any]]:
    """Smoke Job manifests by target color."""
    found = [m for m in r.manifests() if m["kind"] == "Job"]
    return {m["metadata"]["labels"]["target-color"]: m for m in found}


def env_of(job: dict[str, Any]) -> dict[str, str]:
    (c,) = job["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in c["env"]}


def test_each_color_is_checked_through_its_own_service(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    for color, job in jobs(r).items():
        assert job["metadata"]["name"].startswith(f"webserver-smoke-{color}-")
        env = env_of(job)
        assert env["SMOKE_URL"] == f"http://webserver-{color}:80"
        own = manifest(r, "Service", f"webserver-{color}")
        assert own["spec"]["selector"] == {"app": "imageview", "type": "webserver", "color": color}
        assert own["spec"]["type"] == "ClusterIP"
        assert env["SMOKE_READY_PATH"] == "/readyz" and env["SMOKE_PATH"] == "/"
        assert env["SMOKE_STATUS"] == "200"


def test_the_job_is_bounded_and_hardened(render_stack: Renderer) -> None:
    job = jobs(render_stack("prod"))["blue"]
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 300
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert set(c["resources"]["limits"]) == {"cpu", "memory"}
    assert "ttlSecondsAfterFinished" not in spec, "a deleted Job would be re-created and re-run"


def test_smoke_settings_reach_the_job(render_stack: Renderer) -> None:
    r = render_stack(
        "imageview",
        [
            "apps.imageview.smoke.path=/",
            "apps.imageview.smoke.text=imageview",
            "apps.imageview.smoke.attempts=5",
            "apps.imageview.smoke.deadlineSeconds=200",
        ],
    )
    job = jobs(r)["green"]
    assert env_of(job)["SMOKE_TEXT"] == "imageview" and env_of(job)["SMOKE_ATTEMPTS"] == "5"
    assert job["spec"]["activeDeadlineSeconds"] == 200


def test_a_new_release_is_a_new_job_an_unchanged_color_keeps_its_own(
    render_stack: Renderer,
) -> None:
    before = jobs(render_stack("imageview"))
    after = jobs(
        render_stack(
            "imageview", ['apps.imageview.colors.green.configMaps.projectid["project.id"]=next']
        )
    )
    assert after["green"]["metadata"]["name"] != before["green"]["metadata"]["name"]
    assert after["blue"]["metadata"]["name"] == before["blue"]["metadata"]["name"]
    flipped = jobs(render_stack("imageview", ["apps.imageview.activeColor=green"]))
    assert {c: j["metadata"]["name"] for c, j in flipped.items()} == {
        c: j["metadata"]["name"] for c, j in before.items()
    }, "a cutover re-runs nothing: the new live color passed when it was idle"


@pytest.mark.parametrize(
    "change",
    [
        "apps.imageview.colors.green.image=gcr.io/p/imageview@sha256:" + "a" * 64,
        "apps.imageview.colors.green.source=apps/imageview/blue",
    ],
    ids=["pinned image", "new build"],
)
def test_a_new_image_alone_is_a_new_job(render_stack: Renderer, change: str) -> None:
    """The color's image is what a release changes most: a new one must be tested again, even
    with its config unchanged (the Deployment rolls; a Job of the old name would not re-run)."""
    before = jobs(render_stack("imageview"))
    after = jobs(render_stack("imageview", [change]))
    pinned_again = jobs(
        render_stack(
            "imageview", ["apps.imageview.colors.green.image=gcr.io/p/imageview@sha256:" + "b" * 64]
        )
    )
    assert after["green"]["metadata"]["name"] != before["green"]["metadata"]["name"]
    assert pinned_again["green"]["metadata"]["name"] not in {
        after["green"]["metadata"]["name"],
        before["green"]["metadata"]["name"],
    }
    assert after["blue"]["metadata"]["name"] == before["blue"]["metadata"]["name"]


def test_the_job_waits_long_enough(render_stack: Renderer) -> None:
    (job, *_) = render_stack("imageview").of_type(JOB)
    assert job.dependencies, "after its color's Deployment and Service"


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_disabled_smoke_gates_on_the_deployment(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    apps = list(r.outputs["apps"])
    off = render_stack(stack, [f"apps.{a}.smoke.enabled=false" for a in apps])
    assert not off.of_type(JOB)
    for app in apps:
        live = next(x for x in off.of_type("kubernetes:core/v1:Service") if x.name == f"{app}-live")
        assert any("Deployment" in d for d in live.dependencies)
