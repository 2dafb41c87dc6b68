"""What the doctor's tests share: stand-ins for the tools it checks (executables that answer like
the real ones) and doctors whose PATH holds only them."""

from __future__ import annotations

from pathlib import Path

from infra.doctor.check import Doctor
from infra.doctor.findings import Finding
from infra.doctor.machine import Machine


def fake_tools(tmp_path: Path, **versions: str) -> Path:
    """Executables that answer like the real ones: pulumi, docker, gke-gcloud-auth-plugin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scripts = {
        "pulumi": f"""case "$1" in
  version) echo v{versions.get("pulumi", "3.259.0")};;
  whoami) echo "User: alice"; echo "Backend URL: file://~";;
esac""",
        "docker": f'[ "$1" = version ] && echo {versions.get("docker", "28.2.2")}',
        "gke-gcloud-auth-plugin": "echo Kubernetes v1.30.0",
    }
    for name, body in scripts.items():
        if name in versions and versions[name] == "absent":
            continue
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return bin_dir


def script(path: Path, body: str) -> Path:
    """An executable shell script ``body`` at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def stand_in(tmp_path: Path, version: str) -> Path:
    """A Pulumi CLI stand-in outside PATH: prints ``version`` and a backend."""
    return script(
        tmp_path / "stand-in" / "pulumi-stand-in",
        f'case "$1" in version) echo v{version};; whoami) echo "Backend URL: file://stand-in";; '
        "esac",
    )


def _path(bin_dir: Path | None, home: Path) -> str:
    """``bin_dir`` alone as PATH (none: a folder that does not exist, where nothing is found)."""
    return str(bin_dir) if bin_dir else str(home / "no-such-dir")


def doctor_for(stack: str, bin_dir: Path | None, env: dict[str, str], home: Path) -> Doctor:
    """A doctor whose PATH is ``bin_dir`` alone (no PATH entry at all: nothing is found)."""
    return Doctor(stack, env={"PATH": _path(bin_dir, home), **env}, home=home)


def machine_for(bin_dir: Path | None, env: dict[str, str], home: Path) -> Machine:
    """The machine's checks with PATH ``bin_dir`` alone, as :func:`doctor_for`."""
    return Machine(env={"PATH": _path(bin_dir, home), **env}, home=home)


def by_what(findings: list[Finding]) -> dict[str, Finding]:
    return {f.what: f for f in findings}
