"""The smoke Job for real: the container of the rendered Job manifest (its image's entrypoint, the
env and the security settings the manifest gives it) runs on a Docker network next to the app
container, which answers under the name of the color's Service (a network alias) on the Service's
port. It passes against the real imageview image and fails, within the Job's deadline, against a
server that is ready (``/readyz`` 200) but answers 500 on ``/``.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.offline import program, stackfile
from tests.images.docker_tools import NODE_BASE, PYTHON_BASE, ROOT, build, docker

pytestmark = pytest.mark.image

#: Fewer, faster tries than the default, so the failing case ends in seconds.
SMOKE = ["apps.imageview.smoke.attempts=3", "apps.imageview.smoke.intervalSeconds=1"]
#: Ready, and 500 on every other path: a release that starts but is broken.
BROKEN = (
    "import http.server,os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        code = 200 if self.path == '/readyz' else 500\n"
    "        self.send_response(code); self.send_header('Content-Length', '2')\n"
    "        self.end_headers(); self.wfile.write(b'no')\n"
    "http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n"
)


@pytest.fixture(scope="module")
def built(bases: None) -> Iterator[dict[str, str]]:
    """The engine, the local bases, and the smoke and imageview-green images."""
    run_id = "gkebg-smoke-" + secrets.token_hex(4)
    tags = {"smoke": f"{run_id}/smoke:v1", "app": f"{run_id}/imageview-green:v1"}
    for tag, source, base in (
        (tags["smoke"], "smoke", PYTHON_BASE),
        (tags["app"], "imageview/green", NODE_BASE),
    ):
        dockerfile = str(ROOT / "apps" / source / "Dockerfile")
        build("-q", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
              "-f", dockerfile, "-t", tag, str(ROOT / "apps"))  # fmt: skip
    try:
        yield tags
    finally:
        for tag in tags.values():
            docker("rmi", "-f", tag, check=False)


def job_manifest() -> dict[str, Any]:
    render = program.run(stackfile.merged("imageview", SMOKE))
    (job,) = [
        m
        for m in render.manifests()
        if m["kind"] == "Job" and m["metadata"]["labels"]["target-color"] == "green"
    ]
    return job


def docker_flags(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    """The manifest's security settings and limits, as `docker run` flags."""
    sc, psc = container["securityContext"], pod["securityContext"]
    flags = ["--user", f"{psc['runAsUser']}:{psc['runAsGroup']}"]
    if sc["readOnlyRootFilesystem"]:
        flags.append("--read-only")
    if sc["capabilities"]["drop"] == ["ALL"]:
        flags += ["--cap-drop", "ALL"]
    if sc["allowPrivilegeEscalation"] is False:
        flags += ["--security-opt", "no-new-privileges"]
    limits = container["resources"]["limits"]
    flags += ["--memory", limits["memory"].replace("Mi", "m"), "--cpus", "0.1"]
    if "command" in container:
        flags += ["--entrypoint", container["command"][0]]
    return flags


@pytest.fixture
def network() -> Iterator[Callable[[str, list[str]], str]]:
    """``start(image, args)`` runs the app side on a fresh network under the Service's name."""
    name = "gkebg-smoke-net-" + secrets.token_hex(4)
    docker("network", "create", name)
    started: list[str] = []
    job = job_manifest()
    url = urllib.parse.urlsplit(
        next(e["value"] for e in job_container(job)["env"] if e["name"] == "SMOKE_URL")
    )

    def start(image: str, args: list[str]) -> str:
        cid = docker(
            "run", "-d", "--network", name, "--network-alias", str(url.hostname),
            # The Service's port (80) on a non-root app: what kube-proxy's mapping gives a pod.
            "--sysctl", "net.ipv4.ip_unprivileged_port_start=0",
            "-e", f"PORT={url.port}", "--read-only", "--cap-drop", "ALL", image, *args,
        ).strip()  # fmt: skip
        started.append(cid)
        return name

    yield start
    for cid in started:
        docker("rm", "-f", cid, check=False)
    docker("network", "rm", name, check=False)


def job_container(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return dict(container)


def run_job(network_name: str, smoke_image: str) -> tuple[int, str, float]:
    """The Job's container as the manifest describes it; (exit code, log, seconds)."""
    job = job_manifest()
    pod = job["spec"]["template"]["spec"]
    container = job_container(job)
    env = [f"{e['name']}={e['value']}" for e in container["env"]]
    args = list(container.get("args", []))
    started = time.monotonic()
    cid = docker(
        "run", "-d", "--network", network_name, *docker_flags(pod, container),
        *(a for e in env for a in ("-e", e)), smoke_image, *args,
    ).strip()  # fmt: skip
    try:
        code = int(docker("wait", cid, timeout=job["spec"]["activeDeadlineSeconds"]).strip())
        elapsed = time.monotonic() - started
        return code, docker("logs", cid), elapsed
    finally:
        docker("rm", "-f", cid, check=False)


def test_a_good_color_passes(
    built: dict[str, str], network: Callable[[str, list[str]], str]
) -> None:
    name = network(built["app"], [])
    code, log, elapsed = run_job(name, built["smoke"])
    assert code == 0, log
    assert log.startswith("smoke ok: http://webserver-green:80/ answered 200"), log
    assert elapsed < job_manifest()["spec"]["activeDeadlineSeconds"]


def test_a_ready_color_that_answers_500_fails_within_the_deadline(
    built: dict[str, str], network: Callable[[str, list[str]], str]
) -> None:
    name = network(PYTHON_BASE, ["python3", "-c", BROKEN])
    code, log, elapsed = run_job(name, built["smoke"])
    assert code == 1, log
    lines = log.splitlines()
    assert lines[0] == "smoke try 1/3: GET / answered 500, expected 200", log
    assert lines[-1] == "smoke FAILED: http://webserver-green:80 after 3 tries", log
    assert elapsed < job_manifest()["spec"]["activeDeadlineSeconds"]
