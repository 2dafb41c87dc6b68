"""Preflight for ``pulumi up``: what is missing on this machine and in this stack, one line each,
with what to run to fix it.

    python -m infra.doctor --stack dev        (or: make doctor STACK=dev)

Works offline: everything that needs no cloud is checked for real (tools on PATH and their versions,
the Docker engine, the Pulumi CLI's own pre-run checks on Pulumi.yaml and the stack file, the
program's config through an offline render, which secrets the stack file holds encrypted). What
needs the cloud or a backend it cannot reach is reported as ``not checked``, never as ``ok``.
Exit 0 when nothing is missing, 1 when something is, 2 for a bad argument.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # before the imports below, which take most of a second
    from infra.cli import guard_start

    guard_start()

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from infra.cli import OneLineParser, run
from infra.config import secrets as secrets_section
from infra.offline import program, stackfile
from infra.settings import PROJECT, ConfigError

#: The oldest Pulumi CLI this project supports: object-typed config keys in Pulumi.yaml need
#: 3.187 (pulumi/pulumi#20132); README and the workflows state the version CI pins (3.272.0).
MIN_PULUMI = (3, 187, 0)
#: pulumi-docker 4+ builds with BuildKit (its ``build.builderVersion`` defaults to
#: ``BuilderBuildKit``), which the engine serves from 18.09 on.
MIN_DOCKER = (18, 9, 0)
TIMEOUT_S = 20

Status = Literal["ok", "MISSING", "not checked"]


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    status: Status
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<12} {self.what:<24} {self.detail}"


Run = Callable[[Sequence[str]], "subprocess.CompletedProcess[str] | None"]


def run_tool(cmd: Sequence[str]) -> subprocess.CompletedProcess[str] | None:
    """Runs a tool with a timeout; ``None`` when it cannot be started or does not answer."""
    try:
        return subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _version(text: str) -> tuple[int, int, int] | None:
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def _shown(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


class Doctor:
    """The checks, with the machine's tools and environment injectable for tests."""

    def __init__(
        self,
        stack: str,
        *,
        run: Run = run_tool,
        which: Callable[[str], str | None] = shutil.which,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        self.stack = stack
        self.run = run
        self.which = which
        self.env = dict(os.environ if env is None else env)
        self.home = home or Path.home()
        self.findings: list[Finding] = []
        self.values: dict[str, Any] = {}

    def add(self, status: Status, what: str, detail: str) -> None:
        self.findings.append(Finding(status, what, detail))

    # ----------------------------------------------------------------- machine

    def pulumi_cli(self) -> bool:
        if not self.which("pulumi"):
            self.add(
                "MISSING",
                "Pulumi CLI",
                "not on PATH; install it: curl -fsSL https://get.pulumi.com | sh "
                f"(>= {_shown(MIN_PULUMI)})",
            )
            return False
        result = self.run(["pulumi", "version"])
        version = _version(result.stdout) if result and result.returncode == 0 else None
        if version is None:
            self.add("MISSING", "Pulumi CLI", "`pulumi version` did not answer; reinstall it")
            return False
        if version < MIN_PULUMI:
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"{_shown(version)} is older than {_shown(MIN_PULUMI)}; upgrade: "
                "curl -fsSL https://get.pulumi.com | sh",
            )
            return False
        self.add("ok", "Pulumi CLI", f"{_shown(version)} (>= {_shown(MIN_PULUMI)})")
        return True

    def backend(self, cli: bool) -> None:
        if not cli:
            self.add("not checked", "Pulumi backend", "needs the Pulumi CLI")
            return
        result = self.run(["pulumi", "whoami", "--verbose", "--non-interactive"])
        if result is None or result.returncode != 0:
            self.add(
                "MISSING",
                "Pulumi backend",
                "not logged in: pulumi login --local (a file backend) or "
                "pulumi login gs://<bucket> (a team's)",
            )
            return
        url = re.search(r"Backend URL:\s*(\S+)", result.stdout)
        self.add("ok", "Pulumi backend", f"logged in ({url[1] if url else 'backend reachable'})")

    def docker(self) -> None:
        if not self.which("docker"):
            self.add(
                "MISSING",
                "Docker with BuildKit",
                "`docker` not on PATH; install Docker Engine (it builds the app images)",
            )
            return
        result = self.run(["docker", "version", "--format", "{{.Server.Version}}"])
        version = _version(result.stdout) if result and result.returncode == 0 else None
        if version is None:
            self.add(
                "MISSING",
                "Docker with BuildKit",
                "the Docker engine does not answer; start it (sudo systemctl start docker) or "
                "check DOCKER_HOST",
            )
        elif version < MIN_DOCKER:
            self.add(
                "MISSING",
                "Docker with BuildKit",
                f"engine {_shown(version)} has no BuildKit; upgrade to >= {_shown(MIN_DOCKER)}",
            )
        else:
            self.add("ok", "Docker with BuildKit", f"engine {_shown(version)}")

    def gke_tools(self, project: str) -> None:
        if self.which("gke-gcloud-auth-plugin"):
            self.add("ok", "gke-gcloud-auth-plugin", "on PATH (the kubeconfig output uses it)")
        else:
            self.add(
                "MISSING",
                "gke-gcloud-auth-plugin",
                "not on PATH; install: gcloud components install gke-gcloud-auth-plugin",
            )
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

    # ----------------------------------------------------------------- stack

    def cli_checks(self) -> stackfile.StackConfig | None:
        try:
            merged = stackfile.merged(self.stack)
        except stackfile.StackFileError as err:
            self.add("MISSING", "Pulumi CLI checks", f"the CLI would stop: {err}")
            return None
        self.add(
            "ok",
            "Pulumi CLI checks",
            f"Pulumi.yaml and {stackfile.stack_file(self.stack).name} pass the CLI's "
            "pre-run checks",
        )
        return merged

    def config(self, merged: stackfile.StackConfig) -> None:
        try:
            render = program.run(merged)
        except ConfigError as err:
            self.add("MISSING", "stack config", str(err))
            return
        self.add(
            "ok",
            "stack config",
            f"the program accepts it (offline render: {len(render.resources)} resources)",
        )

    def secrets(self) -> None:
        try:
            document = stackfile.stack_document(self.stack)
        except stackfile.StackFileError as err:
            self.add("not checked", "secrets", f"the stack file cannot be read: {err}")
            return
        config = document.get("config") or {}
        apps = config.get(f"{PROJECT}:apps") or {}
        declared = {
            app: spec["secret"]["keys"]
            for app, spec in apps.items()
            if isinstance(spec, dict)
            and isinstance(spec.get("secret"), dict)
            and isinstance(spec["secret"].get("keys"), list)
        }
        if not declared:
            self.add("ok", "secrets", "no app declares a Secret")
            return
        stored = config.get(f"{PROJECT}:{secrets_section.KEY}") or {}
        missing: list[str] = []
        plain: list[str] = []
        for app, keys in declared.items():
            values = stored.get(app) if isinstance(stored, dict) else None
            for key in keys:
                value = values.get(key) if isinstance(values, dict) else None
                if value is None:
                    missing.append(f"{app}.{key}")
                elif not stackfile.has_secure(value):
                    plain.append(f"{app}.{key}")
        provider = (
            "secretsprovider" in document
            or "encryptionsalt" in document
            or "encryptedkey" in document
        )
        if plain:
            self.add(
                "MISSING",
                "secrets",
                f"secrets.{plain[0]} is plaintext in the stack file; remove it, then: "
                f"{secrets_section.set_command(*plain[0].split('.', 1))} --stack {self.stack}",
            )
        elif missing:
            self.add(
                "MISSING",
                "secrets",
                f"secrets.{missing[0]} is not set"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + f"; run: {secrets_section.set_command(*missing[0].split('.', 1))} "
                f"--stack {self.stack}",
            )
        else:
            self.add("ok", "secrets", f"{sum(map(len, declared.values()))} set, encrypted")
        self._secrets_provider(document, provider)

    def _secrets_provider(self, document: Mapping[str, Any], provider: bool) -> None:
        if not provider:
            self.add(
                "MISSING",
                "secrets provider",
                f"the stack file has none; create the stack first: pulumi stack init {self.stack} "
                "--secrets-provider passphrase (or gcpkms://projects/P/locations/L/keyRings/R/"
                "cryptoKeys/K)",
            )
        elif "encryptionsalt" in document:
            if self.env.get("PULUMI_CONFIG_PASSPHRASE") or self.env.get(
                "PULUMI_CONFIG_PASSPHRASE_FILE"
            ):
                self.add("ok", "secrets provider", "passphrase, PULUMI_CONFIG_PASSPHRASE is set")
            else:
                self.add(
                    "MISSING",
                    "secrets provider",
                    "passphrase: export PULUMI_CONFIG_PASSPHRASE (or _FILE) to decrypt them",
                )
        else:
            self.add(
                "not checked",
                "secrets provider",
                f"{document.get('secretsprovider')}: decrypting needs access to the key",
            )

    # ----------------------------------------------------------------- all

    def check(self) -> list[Finding]:
        cli = self.pulumi_cli()
        self.backend(cli)
        self.docker()
        merged = self.cli_checks()
        if merged is None:
            self.add("not checked", "stack config", "needs the CLI checks to pass first")
            self.secrets()
            return self.findings
        platform = merged.values.get(f"{PROJECT}:platform")
        if platform == "gke":
            self.gke_tools(str(merged.values.get(f"{PROJECT}:project") or "(unset)"))
            self.add(
                "not checked",
                "project APIs",
                "serviceusage.googleapis.com must be on to enable the rest (it is by default)",
            )
        self.config(merged)
        self.secrets()
        return self.findings


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = OneLineParser(
        prog="python -m infra.doctor", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    args = parser.parse_args(argv)
    try:
        stackfile.stack_file(args.stack)
    except stackfile.StackFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    findings = Doctor(args.stack).check()
    print(f"pulumi up --stack {args.stack}: what this machine and the stack need")
    for finding in findings:
        print(finding.line())
    missing = [f for f in findings if f.status == "MISSING"]
    unchecked = [f for f in findings if f.status == "not checked"]
    print(
        f"{len(missing)} missing, {len(unchecked)} not checked offline, "
        f"{len(findings) - len(missing) - len(unchecked)} ok"
    )
    return 1 if missing else 0


if __name__ == "__main__":
    run(main, "nothing changed (the doctor only reads)")
