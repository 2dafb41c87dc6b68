"""The Pulumi CLI built from tools/ (``.tools/bin/pulumi``), run the way the real tier runs it: a
file backend and a passphrase in a scratch folder, no plugin downloads, no update check, and a
PATH with none of the machine's own Pulumi programs (plugins the tier wants are passed in
``extra_path``)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.prerequisites import unavailable
from tests.real.cluster import TOOLS_BIN, Unavailable

PULUMI = TOOLS_BIN / "pulumi"
#: What the CLI prints when it goes on to start the program without a Python language host.
NO_LANGUAGE_HOST = "no language plugin 'pulumi-language-python' found"


def started_the_program(out: str) -> bool:
    """The CLI validated the project and the stack's config and went on to the program: it ran
    the program in our language host (the root stack is registered), or found no host to run it
    in (a machine without .tools/bin/pulumi-language-python)."""
    return "pulumi:pulumi:Stack " in out or NO_LANGUAGE_HOST in out


def pulumi_binary() -> Path:
    if not os.access(PULUMI, os.X_OK):
        raise Unavailable(
            f"missing: the Pulumi CLI ({PULUMI}); install: bash scripts/install.sh "
            "(scripts/install.d/50-go-tools.sh)"
        )
    return PULUMI


@dataclass(frozen=True)
class Cli:
    """One isolated CLI home and file backend under ``scratch``."""

    scratch: Path
    extra_path: Sequence[Path] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        state = self.scratch / "state"
        state.mkdir(parents=True, exist_ok=True)
        path = [str(p) for p in self.extra_path] + ["/usr/bin", "/bin"]
        return {
            "PATH": os.pathsep.join(path),
            "HOME": str(self.scratch),
            "PULUMI_HOME": str(self.scratch / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "real-tier",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            **self.extra_env,
        }

    def run(self, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``pulumi ARGS`` in ``cwd``; stdout and stderr together in ``.stdout``."""
        return subprocess.run(
            [str(pulumi_binary()), *args, "--non-interactive"],
            cwd=cwd,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )


def engine_cli(folder: Path, kubeconfig: Path, needed: Sequence[str], installed_by: str) -> Cli:
    """The real CLI with the tier's plugins on PATH, against the loopback cluster; a missing
    plugin is named (a failure under CI, a skip elsewhere)."""
    missing = [n for n in needed if not os.access(TOOLS_BIN / n, os.X_OK)]
    if missing:
        unavailable(
            f"missing in {TOOLS_BIN}: {', '.join(missing)}; install: bash scripts/install.sh"
            f" ({installed_by})"
        )
    return Cli(folder, extra_path=[TOOLS_BIN], extra_env={"KUBECONFIG": str(kubeconfig)})
