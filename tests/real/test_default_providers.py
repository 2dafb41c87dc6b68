"""The engine itself refuses a Kubernetes resource that takes no explicit provider, because
Pulumi.yaml sets ``pulumi:disable-default-providers`` (pulumi/pulumi v3.274.1
pkg/resource/deploy/default_providers.go ``shouldDenyRequest``): a component that forgets to pass
the stack's provider cannot act on whatever cluster the deployer's kubeconfig points at.
tests/infra/components/test_platform.py holds the program to the same rule under the mocks; this
is the engine's word on it, and the same program without the setting shows what it prevents."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real.cli import Cli
from tests.real.project import configure, local_stack, pinned

pytestmark = pytest.mark.real

#: A resource registered the way a forgetful component would: no ``provider``, no parent's.
STRAY = (
    '\nimport pulumi_kubernetes\n\npulumi_kubernetes.core.v1.ConfigMap("stray", data={"a": "b"})\n'
)
#: pulumi/pulumi v3.274.1 pkg/resource/deploy/providers (DenyDefaultProvider), as the CLI prints it.
REFUSED = (
    "Default provider for 'kubernetes' disabled."
    " 'urn:pulumi:local::gke-bluegreen::kubernetes:core/v1:ConfigMap::stray'"
    " must use an explicit provider."
)


def _preview(engine: Cli, folder: Path, *, deny: bool) -> tuple[int, str]:
    project = local_stack(engine, folder)
    with (project / "__main__.py").open("a") as main:
        main.write(STRAY)
    if not deny:
        text = (project / "Pulumi.yaml").read_text()
        start = text.index("  pulumi:disable-default-providers:")
        (project / "Pulumi.yaml").write_text(text[:start])
    configure(engine, project, pinned(smoke=True))
    done = engine.run(project, "preview", "--stack", "local", timeout=600)
    return done.returncode, done.stdout


def test_the_engine_refuses_a_resource_without_a_provider(engine: Cli, tmp_path: Path) -> None:
    code, out = _preview(engine, tmp_path / "denied", deny=True)
    assert code != 0 and REFUSED in " ".join(out.split()), out


def test_without_the_setting_it_would_use_the_kubeconfig(engine: Cli, tmp_path: Path) -> None:
    code, out = _preview(engine, tmp_path / "allowed", deny=False)
    assert code == 0, out
    assert "kubernetes:core/v1:ConfigMap" in out and "stray" in out, out
