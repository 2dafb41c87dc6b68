"""The doctor's checks of this machine: the Pulumi CLI and its backend login, the Docker engine
(BuildKit, the API version), and for a GKE stack the GKE auth plugin and GCP credentials."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from infra import pulumi_cli
from infra.doctor.findings import Checks, Finding
from infra.doctor.tools import SEMVER, NoAnswer, Run, answered, run_tool, shown, version

#: The oldest Pulumi CLI this project supports: object-typed config keys in Pulumi.yaml need
#: 3.187 (pulumi/pulumi#20132).
MIN_PULUMI = (3, 187, 0)
#: pulumi-docker 4+ builds with BuildKit (its ``build.builderVersion`` defaults to
#: ``BuilderBuildKit``), which the engine serves from 18.09 on.
MIN_DOCKER = (18, 9, 0)
INSTALL_PULUMI = "curl -fsSL https://get.pulumi.com | sh"

#: What the Docker engine answers a client whose API version it does not serve (moby/moby,
#: api/server/middleware/version.go at 3a633a7, ``versionUnsupportedError``).
_API_MISMATCH = re.compile(
    r"client version (?P<client>[0-9.]+) is too (?P<way>new|old)\. "
    r"(?:Maximum|Minimum) supported API version is (?P<engine>[0-9.]+)"
)


class Machine(Checks):
    """The machine's checks, with its tools and environment injectable for tests: tools are
    looked up on ``env``'s PATH (``which``), the Pulumi CLI by ``find_pulumi(env)`` (``$PULUMI``
    first), and run with ``run``; GCP credentials are looked for under ``home``."""

    def __init__(
        self,
        *,
        run: Run = run_tool,
        which: Callable[[str], str | None] | None = None,
        find_pulumi: Callable[[Mapping[str, str]], str | None] = pulumi_cli.find_pulumi,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
        findings: list[Finding] | None = None,
    ) -> None:
        super().__init__(findings)
        self.run = run
        self.env = dict(os.environ if env is None else env)
        self.which = which or (lambda name: shutil.which(name, path=self.env.get("PATH")))
        self.find_pulumi = find_pulumi
        self.home = home or Path.home()

    def pulumi_cli(self) -> str | None:
        """The Pulumi CLI to run when it is there and new enough, else None (and why)."""
        path = self.find_pulumi(self.env)
        if path is None:
            self._no_pulumi()
            return None
        result = self.run([path, "version"])
        ran = answered(result)
        found = SEMVER.search(ran.stdout) if ran else None
        if found is None:
            failed = (
                result.line(f"{path} version")
                if isinstance(result, NoAnswer)
                else f"`{path} version` did not answer"
            )
            self.add("MISSING", "Pulumi CLI", f"{failed}; reinstall it: {INSTALL_PULUMI}")
            return None
        release = (int(found[1]), int(found[2]), int(found[3]))
        if found[4]:
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"{path} is {found[0]}, a pre-release, not a release; install a release "
                f"(>= {shown(MIN_PULUMI)}): {INSTALL_PULUMI}",
            )
            return None
        if release < MIN_PULUMI:
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"{path} is {shown(release)}, older than {shown(MIN_PULUMI)}; upgrade: "
                f"{INSTALL_PULUMI}",
            )
            return None
        self.add("ok", "Pulumi CLI", f"{shown(release)} (>= {shown(MIN_PULUMI)}) at {path}")
        return path

    def _no_pulumi(self) -> None:
        if self.env.get(pulumi_cli.ENV):
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"{pulumi_cli.ENV}={pulumi_cli.wanted(self.env)} names no executable; point it "
                "at the Pulumi CLI, or unset it to use pulumi on PATH",
            )
        else:
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"not on PATH; install it (>= {shown(MIN_PULUMI)}): {INSTALL_PULUMI}",
            )

    def backend(self, pulumi: str | None) -> None:
        if pulumi is None:
            self.add("not checked", "Pulumi backend", "needs the Pulumi CLI (see above)")
            return
        result = self.run([pulumi, "whoami", "--verbose", "--non-interactive"])
        if isinstance(result, NoAnswer):
            self.add(
                "MISSING",
                "Pulumi backend",
                f"{result.line('pulumi whoami')}: the backend it is logged in to does not answer "
                "(a network or bucket permission problem?); check it with: pulumi whoami --verbose",
            )
            return
        ran = answered(result)
        if ran is None:
            self.add(
                "MISSING",
                "Pulumi backend",
                "not logged in; run: pulumi login --local (state in files on this machine) or "
                "pulumi login gs://<bucket> (a team's state in a GCS bucket)",
            )
            return
        url = re.search(r"Backend URL:\s*(\S+)", ran.stdout)
        self.add("ok", "Pulumi backend", f"logged in ({url[1] if url else 'backend reachable'})")

    def docker(self) -> None:
        docker = self.which("docker")
        if docker is None:
            self.add(
                "MISSING",
                "Docker with BuildKit",
                "`docker` not on PATH; install Docker Engine (it builds the app images)",
            )
            return
        result = self.run([docker, "version", "--format", "{{.Server.Version}}"])
        ran = answered(result)
        engine = version(ran.stdout) if ran else None
        mismatch = (
            _API_MISMATCH.search(result.stdout + result.stderr)
            if isinstance(result, subprocess.CompletedProcess)
            else None
        )
        if mismatch is not None:
            self.add("MISSING", "Docker with BuildKit", self._api_mismatch(mismatch))
        elif isinstance(result, NoAnswer):
            self.add(
                "MISSING",
                "Docker with BuildKit",
                f"{result.line('docker version')}: the engine is stuck or DOCKER_HOST points at "
                "a host that does not answer; restart it (sudo systemctl restart docker)",
            )
        elif engine is None:
            self.add(
                "MISSING",
                "Docker with BuildKit",
                "the Docker engine does not answer; start it (sudo systemctl start docker) or "
                "check DOCKER_HOST",
            )
        elif engine < MIN_DOCKER:
            self.add(
                "MISSING",
                "Docker with BuildKit",
                f"engine {shown(engine)} has no BuildKit; upgrade to >= {shown(MIN_DOCKER)}",
            )
        else:
            self.add("ok", "Docker with BuildKit", f"engine {shown(engine)}")

    def _api_mismatch(self, found: re.Match[str]) -> str:
        """What to do when the docker CLI and the engine speak different Docker API versions."""
        client, engine = found["client"], found["engine"]
        pinned = self.env.get("DOCKER_API_VERSION")
        if pinned:
            fix = f"unset DOCKER_API_VERSION (it is {pinned}), or set it to {engine}"
        elif found["way"] == "new":
            fix = f"upgrade Docker Engine, or export DOCKER_API_VERSION={engine}"
        else:
            fix = "upgrade the docker CLI"
        limit = "at most" if found["way"] == "new" else "at least"
        return (
            f"Docker API version mismatch: the client asks for API {client}, the engine serves "
            f"{limit} {engine}; {fix}"
        )

    def gke_tools(self, project: str) -> None:
        if self.which("gke-gcloud-auth-plugin"):
            self.add("ok", "gke-gcloud-auth-plugin", "on PATH (the kubeconfig output uses it)")
        else:
            self.add(
                "MISSING",
                "gke-gcloud-auth-plugin",
                "not on PATH; install: gcloud components install gke-gcloud-auth-plugin",
            )
        self.gcp_credentials(project)
        self.add(
            "not checked",
            "project APIs",
            f"serviceusage.googleapis.com must be on in {project} to enable the rest (it is on "
            f"new projects); see: gcloud services list --enabled --project {project}",
        )

    def gcp_credentials(self, project: str) -> None:
        adc = self.env.get("GOOGLE_APPLICATION_CREDENTIALS") or str(
            self.home / ".config" / "gcloud" / "application_default_credentials.json"
        )
        if Path(adc).is_file():
            self.add(
                "not checked",
                "GCP credentials",
                f"found {adc}; whether they may create resources in {project} needs GCP "
                "(gcloud auth application-default print-access-token)",
            )
        elif self.env.get("GITHUB_ACTIONS") == "true" or self.env.get("KUBERNETES_SERVICE_HOST"):
            self.add(
                "not checked",
                "GCP credentials",
                "no credentials file; on CI or GCE/GKE they come from workload identity",
            )
        else:
            self.add(
                "MISSING",
                "GCP credentials",
                "none found; run: gcloud auth application-default login",
            )
