"""Run the real program (``__main__.py``) under the mocks, the way the engine would run it, and keep
what it registered: the one harness behind the render CLI, the release tool, doctor and the tests.

The program reads its config exactly as under ``pulumi up``: from the ``PULUMI_CONFIG`` and
``PULUMI_CONFIG_SECRET_KEYS`` environment variables the Python language host sets (pulumi/pulumi at
1b59498, ``sdk/python/cmd/pulumi-language-python/main.go``). Build contexts are staged into a
folder the caller chooses, never into the repository.
"""

from __future__ import annotations

import functools
import json
import os
import runpy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra import cli
from infra.build_context import STAGING_ENV
from infra.offline import mocks
from infra.offline.stackfile import StackConfig
from infra.paths import PROGRAM
from infra.settings import PROJECT


@dataclass
class Render:
    """What one run of the program registered."""

    stack: str
    config: StackConfig
    resources: list[mocks.Registered]
    outputs: dict[str, Any]
    invoked: list[mocks.Invoked] = field(default_factory=list)
    """The provider functions it called, in order."""

    def of_type(self, typ: str) -> list[mocks.Registered]:
        """Resources of one Pulumi type token, in registration order."""
        return [r for r in self.resources if r.type == typ]

    def manifests(self) -> list[dict[str, Any]]:
        """Every Kubernetes object as applied, Secret values redacted (keys kept)."""
        return [manifest(r) for r in self.resources if is_kubernetes_object(r)]


def is_kubernetes_object(r: mocks.Registered) -> bool:
    """A Kubernetes API object (not a provider, not a component)."""
    return r.custom and r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:")


def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys sorted. The wire format carries objects as protobuf
    Structs, whose key order differs from process to process; sorting makes renders
    byte-identical across runs."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def manifest(r: mocks.Registered) -> dict[str, Any]:
    """The object a Kubernetes resource applies: its inputs plus the name the provider gave it,
    ``apiVersion``, ``kind`` and ``metadata`` first, every other key in sorted order."""
    body = canonical(mocks.redact_leaves(r.inputs))
    name = (r.outputs.get("metadata") or {}).get("name")
    metadata = dict(body.get("metadata") or {})
    if name:
        metadata["name"] = name
    ordered = {"apiVersion": body.pop("apiVersion"), "kind": body.pop("kind"), "metadata": metadata}
    body.pop("metadata", None)
    ordered.update(body)
    return ordered


_ENGINE_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", STAGING_ENV)


@contextmanager
def engine_environment(config: StackConfig, staging: Path) -> Iterator[None]:
    """The environment the language host gives the program, restored afterwards."""
    saved = {k: os.environ.get(k) for k in _ENGINE_ENV}
    os.environ["PULUMI_CONFIG"] = json.dumps(config.wire())
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(config.secret_keys))
    os.environ[STAGING_ENV] = str(staging)
    # Nothing set through the SDK's own setter may shadow the environment.
    pulumi.runtime.set_all_config({}, [])
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(
    config: StackConfig,
    *,
    preview: bool = False,
    staging: Path | None = None,
    program: Callable[[], None] | None = None,
    deployed_images: Mapping[str, str] | None = None,
) -> Render:
    """Runs ``program`` (default: ``__main__.py``) under mocks with ``config``; raises what the
    program raises (a bad config: :class:`~infra.settings.ConfigError`, nothing registered).
    ``deployed_images`` maps the image name of a deployed build (``repo:<content tag>``) to its
    deployed digest, which a build of the same name then gets (:class:`~.mocks.CloudMocks`)."""
    monitor = mocks.install(
        config.stack, preview=preview, project=PROJECT, deployed_images=deployed_images
    )
    outputs: dict[str, Any] = {}
    body = program or functools.partial(runpy.run_path, str(PROGRAM), run_name="__pulumi_program__")

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run_program() -> pulumi.Output[Any]:
        body()
        captured = []
        for key, value in mocks.stack_exports().items():
            out = pulumi.Output.from_input(value)
            pair = pulumi.Output.all(out, out.is_secret())
            captured.append(pair.apply(functools.partial(_keep, outputs, key)))
        return pulumi.Output.all(*captured)

    with (
        cli.scratch_dir("gke-bluegreen-contexts-") as scratch,
        engine_environment(config, staging or scratch),
        mocks.without_stack_traces(),
    ):
        run_program()
    return Render(
        stack=config.stack,
        config=config,
        resources=monitor.registered,
        outputs=outputs,
        invoked=monitor.invoked,
    )


def _keep(outputs: dict[str, Any], key: str, pair: list[Any]) -> None:
    """Stores one stack output, wrapped as a secret when it is one."""
    value, secret = pair
    outputs[key] = mocks.secret(value) if secret else value
