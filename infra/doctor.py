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

if __name__ == "__main__":  # before the imports below, which take most of a second
    from infra.cli import guard_start

    guard_start()

import argparse
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from infra import cli, pulumi_cli
from infra.cli import OneLineParser, run
from infra.config import secrets as secrets_section
from infra.config.load import gke_project
from infra.offline import program, stackfile
from infra.settings import ConfigError

#: The oldest Pulumi CLI this project supports: object-typed config keys in Pulumi.yaml need
#: 3.187 (pulumi/pulumi#20132).
MIN_PULUMI = (3, 187, 0)
#: pulumi-docker 4+ builds with BuildKit (its ``build.builderVersion`` defaults to
#: ``BuilderBuildKit``), which the engine serves from 18.09 on.
MIN_DOCKER = (18, 9, 0)
TIMEOUT_S = 20
INSTALL_PULUMI = "curl -fsSL https://get.pulumi.com | sh"

DESCRIPTION = """\
Before `pulumi up --stack STACK`: checks what this machine and the stack still
need, one line each: the Pulumi CLI and its backend login, Docker with
BuildKit, for GKE stacks the GKE auth plugin and GCP credentials, then the
stack file as the Pulumi CLI checks it, its config as the program checks it
(an offline render) and its app secrets (set, encrypted, decryptable). Each
line is ok, MISSING with the command that fixes it, or "not checked" for what
only the cloud can answer. It only reads: nothing is changed."""

EPILOG = """\
the usual sequence:
  python -m infra.doctor --stack dev   fix each MISSING line, run it again
  make preview STACK=dev               pulumi preview with the policy pack
  make up STACK=dev                    pulumi up with the policy pack

environment:
  PULUMI                    the Pulumi CLI to check and run: a path or a
                            command name (default: pulumi on PATH)
  PULUMI_CONFIG_PASSPHRASE  decrypts a passphrase stack's secrets (or
                            PULUMI_CONFIG_PASSPHRASE_FILE)
  GOOGLE_APPLICATION_CREDENTIALS
                            GCP credentials (default: gcloud's application
                            default credentials in ~/.config/gcloud)

exit status: 0 nothing missing, 1 something missing, 2 a bad argument,
130 interrupted by Ctrl-C or SIGTERM"""

Status = Literal["ok", "MISSING", "not checked"]

_ENV_PHRASE = "PULUMI_CONFIG_PASSPHRASE"
_ENV_PHRASE_FILE = "PULUMI_CONFIG_PASSPHRASE_FILE"
#: Stack file keys that name its secrets provider (``pulumi stack init --secrets-provider``).
_PROVIDER_KEYS = frozenset({"encryptionsalt", "secretsprovider", "encryptedkey"})


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    status: Status
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<12} {self.what:<24} {self.detail}"


@dataclass(frozen=True)
class NoAnswer:
    """A command that was started but did not answer within ``seconds`` (it was killed)."""

    seconds: float

    def line(self, cmd: str) -> str:
        return f"`{cmd}` did not answer within {self.seconds:g} s"


Ran: TypeAlias = "subprocess.CompletedProcess[str] | NoAnswer | None"
Run = Callable[[Sequence[str]], Ran]


def run_tool(cmd: Sequence[str]) -> subprocess.CompletedProcess[str] | NoAnswer | None:
    """Runs a tool with a timeout (:data:`TIMEOUT_S`); :class:`NoAnswer` when it does not answer
    in time, ``None`` when it cannot be started."""
    try:
        return subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return NoAnswer(TIMEOUT_S)
    except OSError:
        return None


def _answered(result: object) -> subprocess.CompletedProcess[str] | None:
    """``result`` when the command ran and exited 0."""
    if isinstance(result, subprocess.CompletedProcess) and result.returncode == 0:
        return result
    return None


def _version(text: str) -> tuple[int, int, int] | None:
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


#: A semantic version with its pre-release part: ``v3.273.0-alpha.1748383937+g1a2b3c``.
_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")

#: What the Docker engine answers a client whose API version it does not serve (moby/moby,
#: api/server/middleware/version.go at 3a633a7, ``versionUnsupportedError``).
_API_MISMATCH = re.compile(
    r"client version (?P<client>[0-9.]+) is too (?P<way>new|old)\. "
    r"(?:Maximum|Minimum) supported API version is (?P<engine>[0-9.]+)"
)


def _shown(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


class Doctor:
    """The checks, with the machine's tools and environment injectable for tests: tools are
    looked up on ``env``'s PATH (``which``), the Pulumi CLI by ``find_pulumi(env)`` (``$PULUMI``
    first), and run with ``run``."""

    def __init__(
        self,
        stack: str,
        *,
        run: Run = run_tool,
        which: Callable[[str], str | None] | None = None,
        find_pulumi: Callable[[Mapping[str, str]], str | None] = pulumi_cli.find_pulumi,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        self.stack = stack
        self.run = run
        self.env = dict(os.environ if env is None else env)
        self.which = which or (lambda name: shutil.which(name, path=self.env.get("PATH")))
        self.find_pulumi = find_pulumi
        self.home = home or Path.home()
        self.findings: list[Finding] = []

    def add(self, status: Status, what: str, detail: str) -> None:
        self.findings.append(Finding(status, what, detail))

    # ----------------------------------------------------------------- machine

    def pulumi_cli(self) -> str | None:
        """The Pulumi CLI to run when it is there and new enough, else None (and why)."""
        path = self.find_pulumi(self.env)
        if path is None:
            self._no_pulumi()
            return None
        result = self.run([path, "version"])
        answered = _answered(result)
        found = _SEMVER.search(answered.stdout) if answered else None
        if found is None:
            failed = (
                result.line(f"{path} version")
                if isinstance(result, NoAnswer)
                else f"`{path} version` did not answer"
            )
            self.add("MISSING", "Pulumi CLI", f"{failed}; reinstall it: {INSTALL_PULUMI}")
            return None
        version = (int(found[1]), int(found[2]), int(found[3]))
        if found[4]:
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"{path} is {found[0]}, a pre-release, not a release; install a release "
                f"(>= {_shown(MIN_PULUMI)}): {INSTALL_PULUMI}",
            )
            return None
        if version < MIN_PULUMI:
            self.add(
                "MISSING",
                "Pulumi CLI",
                f"{path} is {_shown(version)}, older than {_shown(MIN_PULUMI)}; upgrade: "
                f"{INSTALL_PULUMI}",
            )
            return None
        self.add("ok", "Pulumi CLI", f"{_shown(version)} (>= {_shown(MIN_PULUMI)}) at {path}")
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
                f"not on PATH; install it (>= {_shown(MIN_PULUMI)}): {INSTALL_PULUMI}",
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
        result = _answered(result)
        if result is None:
            self.add(
                "MISSING",
                "Pulumi backend",
                "not logged in; run: pulumi login --local (state in files on this machine) or "
                "pulumi login gs://<bucket> (a team's state in a GCS bucket)",
            )
            return
        url = re.search(r"Backend URL:\s*(\S+)", result.stdout)
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
        answered = _answered(result)
        version = _version(answered.stdout) if answered else None
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
        elif version is None:
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

    # ----------------------------------------------------------------- stack

    def cli_checks(self) -> stackfile.StackConfig | None:
        try:
            merged = stackfile.merged(self.stack)
        except (stackfile.EncodingError, stackfile.DuplicateKeyError) as err:
            # Refused by the tools' reader; the Pulumi CLI may read such a file its own way.
            self.add("MISSING", "Pulumi CLI checks", str(err))
            return None
        except stackfile.StackFileError as err:
            self.add(
                "MISSING",
                "Pulumi CLI checks",
                f"pulumi up would stop before the program runs: {err}",
            )
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
            self.add(
                "MISSING",
                "stack config",
                f"pulumi up would stop before creating anything: {err}",
            )
            return
        self.add(
            "ok",
            "stack config",
            f"the program accepts it (offline render: {len(render.resources)} resources)",
        )

    def secrets(self) -> None:
        """The values of each declared app Secret: set and encrypted, and a provider that
        decrypts them."""
        try:
            document = stackfile.stack_document(self.stack)
        except stackfile.StackFileError:
            self.add("not checked", "secrets", "needs a stack file it can read (see above)")
            return
        config = stackfile.config_of(document)
        declared = secrets_section.declared_keys(config)
        if declared:
            self._secret_values(config, declared)
        else:
            self.add("ok", "secrets", "no app declares a Secret")
        if declared or _PROVIDER_KEYS & set(document):
            # `pulumi up` opens the stack's secrets provider whether or not a value is secret.
            self._secrets_provider(document)

    def _secret_values(
        self, config: Mapping[str, Any], declared: Mapping[str, tuple[str, ...]]
    ) -> None:
        unset: list[tuple[str, str]] = []
        plain: list[tuple[str, str]] = []
        for app, keys in declared.items():
            for key in keys:
                value = secrets_section.stored(config, app, key)
                if value is None:
                    unset.append((app, key))
                elif not stackfile.has_secure(value):
                    plain.append((app, key))
        stack = f"--stack {self.stack}"
        if plain:
            app, key = plain[0]
            self.add(
                "MISSING",
                "secrets",
                f"secrets.{app}.{key} is plaintext in the stack file; remove it (pulumi config rm "
                f"--path '{secrets_section.KEY}.{app}.{key}' {stack}), then set it encrypted: "
                f"{secrets_section.set_command(app, key)} {stack}",
            )
        elif unset:
            app, key = unset[0]
            more = f" (and {len(unset) - 1} more)" if len(unset) > 1 else ""
            self.add(
                "MISSING",
                "secrets",
                f"secrets.{app}.{key} is not set{more}; run: "
                f"{secrets_section.set_command(app, key)} {stack}",
            )
        else:
            self.add("ok", "secrets", f"{sum(map(len, declared.values()))} set, encrypted")

    def _secrets_provider(self, document: Mapping[str, Any]) -> None:
        if "encryptionsalt" in document:
            self._passphrase()
        elif "secretsprovider" in document or "encryptedkey" in document:
            self.add(
                "not checked",
                "secrets provider",
                f"{document.get('secretsprovider') or 'a key service'}: decrypting needs access "
                "to the key",
            )
        else:
            self.add(
                "MISSING",
                "secrets provider",
                f"the stack file has none; create the stack first: pulumi stack init {self.stack} "
                "--secrets-provider passphrase (or gcpkms://projects/P/locations/L/keyRings/R/"
                "cryptoKeys/K)",
            )

    def _passphrase(self) -> None:
        """A passphrase provider reads ``PULUMI_CONFIG_PASSPHRASE``, set even if empty, else the
        file ``PULUMI_CONFIG_PASSPHRASE_FILE`` names (pulumi/pulumi,
        pkg/secrets/passphrase/manager.go at ec7e8c0, ``os.LookupEnv``)."""
        file = self.env.get(_ENV_PHRASE_FILE)
        if _ENV_PHRASE in self.env:
            self.add("ok", "secrets provider", f"passphrase, {_ENV_PHRASE} is set")
        elif file is not None and not (Path(file).is_file() and os.access(file, os.R_OK)):
            self.add(
                "MISSING",
                "secrets provider",
                f"passphrase: {_ENV_PHRASE_FILE}={file} is not a file it can read; point it at "
                f"the file holding the passphrase, or export {_ENV_PHRASE}",
            )
        elif file is not None:
            self.add("ok", "secrets provider", f"passphrase, read from {_ENV_PHRASE_FILE}")
        else:
            self.add(
                "MISSING",
                "secrets provider",
                f"the stack's secrets provider is a passphrase (encryptionsalt: in "
                f"{stackfile.stack_file(self.stack).name}) and neither {_ENV_PHRASE} nor "
                f"{_ENV_PHRASE_FILE} is set, so pulumi up stops for it; export one of them",
            )

    # ----------------------------------------------------------------- all

    def check(self) -> list[Finding]:
        pulumi = self.pulumi_cli()
        self.backend(pulumi)
        self.docker()
        merged = self.cli_checks()
        if merged is None:
            self.add("not checked", "stack config", "needs the Pulumi CLI checks to pass first")
        else:
            project = gke_project(merged.values)
            if project is not None:
                self.gke_tools(project or "PROJECT")
            self.config(merged)
        self.secrets()
        return self.findings


def parser() -> OneLineParser:
    """The command line: what ``--help`` shows."""
    parser = OneLineParser(
        prog="python -m infra.doctor",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack",
        required=True,
        help="the stack `pulumi up` will deploy: the name of its file stacks/Pulumi.<stack>.yaml "
        f"({stackfile.stack_names_shown()}); required",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        stackfile.stack_file(args.stack)
    except stackfile.StackFileError as err:
        return cli.error(str(err), cli.EXIT_USAGE)
    findings = Doctor(args.stack).check()
    print(f"pulumi up --stack {args.stack}: what this machine and the stack need")
    for finding in findings:
        print(finding.line())
    missing = [f for f in findings if f.status == "MISSING"]
    unchecked = [f for f in findings if f.status == "not checked"]
    ready = len(findings) - len(missing) - len(unchecked)
    after = (
        "fix each MISSING line, then run the doctor again"
        if missing
        else f"next: make preview STACK={args.stack}, then make up STACK={args.stack}"
    )
    print(f"{len(missing)} missing, {len(unchecked)} not checked offline, {ready} ok; {after}")
    return 1 if missing else 0


if __name__ == "__main__":
    run(main, "nothing changed (the doctor only reads)")
