"""The doctor's run: the machine's checks and the stack's, in the order `pulumi up` meets what
they check, into one list of findings."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from infra import pulumi_cli
from infra.config.load import gke_project
from infra.doctor.findings import Finding
from infra.doctor.machine import Machine
from infra.doctor.stack import Stack
from infra.doctor.tools import Run, run_tool
from infra.offline.program import Render


class Doctor:
    """Every check for the stack ``stack``, with the machine's tools and environment injectable
    for tests (see :class:`Machine`); the stack's checks read the same ``env``."""

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
        environ = dict(os.environ if env is None else env)
        self.findings: list[Finding] = []
        self.machine = Machine(
            run=run,
            which=which,
            find_pulumi=find_pulumi,
            env=environ,
            home=home,
            findings=self.findings,
        )
        self.stack = Stack(stack, env=environ, findings=self.findings)

    def check(self) -> list[Finding]:
        """Every finding, in order; a GKE stack's tools and credentials are checked only when
        the stack file says the stack is on GKE."""
        machine, stack = self.machine, self.stack
        pulumi = machine.pulumi_cli()
        machine.backend(pulumi)
        merged = stack.cli_checks()
        if merged is None:
            machine.docker()
            stack.add("not checked", "stack config", "needs the Pulumi CLI checks to pass first")
        else:
            render = stack.config(merged)
            if render is None or builds_images(render):
                machine.docker()
            else:
                machine.add(
                    "ok",
                    "Docker with BuildKit",
                    f"not needed: stack {stack.name} builds no image (every color's image and "
                    "smoke client is pinned)",
                )
            project = gke_project(merged.values)
            if project is not None:
                machine.gke_tools(project or "PROJECT")
        stack.secrets()
        return self.findings


def builds_images(render: Render) -> bool:
    """The program registered the Docker provider: ``pulumi up`` builds with the local engine
    (infra/components/image.py registers it only for a stack that builds an image)."""
    return any(r.type == "pulumi:providers:docker" for r in render.resources)
