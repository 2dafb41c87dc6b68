"""Blue/green releases without a controller: the bookkeeping in the stack file that keeps the live
color immutable, and the order of the steps.

    python -m infra.release status   --stack S [--app A]
    python -m infra.release start    --stack S --app A [--source DIR | --image REF] [--set P=V]...
    python -m infra.release promote  --stack S --app A [--apply]
    python -m infra.release rollback --stack S --app A [--apply]
    python -m infra.release finish   --stack S --app A [--idle-replicas N] [--apply]
    python -m infra.release verify   --stack S --app A [--requests N]
    python -m infra.release check    --stack S

Every step edits ``stacks/Pulumi.<stack>.yaml`` (comments and order kept) and records in
``apps.<app>.release`` what serves traffic, which the program then refuses to change in place
(infra/cutover.py). Before writing, it renders the stack before and after with the real program
offline and prints what ``pulumi up`` will change; a step whose change would touch what it must
not (the live color's pods, for a start) is refused and nothing is written. ``--apply`` then runs
``pulumi up``; after ``promote --apply`` the live URL is checked and a failure rolls back by
itself. What is deployed is read from ``pulumi stack output --json`` (or ``--outputs FILE``).

1. ``start``: pin the live color to what it runs (image by digest from the outputs, its config
   and secret values as its own copies), point the idle color at the new source, image or config,
   record it as the candidate. ``pulumi up`` builds and rolls only the candidate, whose smoke Job
   must pass.
2. ``promote``: move traffic to the candidate (``activeColor``), keep the previous color for a
   rollback. ``pulumi up``: the live Service moves; the previous color scales to ``idleReplicas``
   after ``scaleDownDelaySeconds``.
3. ``finish``: pin the new live color by digest, free the previous one, scale it down.
``rollback``: move traffic back to the previous color (before ``finish``), or to the other color
while it still runs the previous release (after).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # before the imports below, which take most of a second
    from infra.cli import guard_start

    guard_start()

import copy
import dataclasses
import hashlib
import io
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from infra import cutover
from infra.cli import OneLineParser, run, scratch_dir, uninterrupted
from infra.config import parse
from infra.offline import program, stackfile
from infra.offline.program import is_kubernetes_object as is_kubernetes
from infra.paths import ROOT
from infra.pulumi_cli import find_pulumi
from infra.settings import COLORS, PROJECT, AppSettings, Color, ConfigError, Settings

APPS_KEY = f"{PROJECT}:apps"
SECRETS_KEY = f"{PROJECT}:secrets"
#: How long ``pulumi up`` and ``pulumi stack output`` may take.
PULUMI_TIMEOUT_S = 3600


class ReleaseError(Exception):
    """A step cannot be taken; the message is one line and nothing was written."""


# --------------------------------------------------------------------------- the stack file


class StackFile:
    """The stack file as a round-trip YAML document (comments and order survive an edit)."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.path = stackfile.stack_file(stack)
        self.yaml = YAML()
        self.yaml.preserve_quotes = True
        self.yaml.width = 100
        try:
            document = self.yaml.load(self.path.read_text()) or CommentedMap()
        except (OSError, UnicodeDecodeError, YAMLError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ReleaseError(f"{self.path.name}: cannot read it as YAML ({first})") from None
        if not isinstance(document, CommentedMap):
            raise ReleaseError(f"{self.path.name}: the document must be a mapping (config: ...)")
        self.document: CommentedMap = document

    def config(self) -> CommentedMap:
        if "config" not in self.document:
            self.document["config"] = CommentedMap()
        return self.document["config"]  # type: ignore[no-any-return]

    def app(self, name: str) -> CommentedMap:
        apps = self.config().get(APPS_KEY)
        if not isinstance(apps, Mapping) or name not in apps:
            known = ", ".join(apps) if isinstance(apps, Mapping) else "(none)"
            raise ReleaseError(f"no app {name!r} on stack {self.stack}; apps: {known}")
        return apps[name]  # type: ignore[no-any-return]

    def text(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.document, out)
        return out.getvalue()

    def write(self) -> None:
        """Replaces the stack file whole (a temporary file renamed over it): never half written."""
        text = self.text()
        with uninterrupted(f"{self.path.name} was written"):
            temporary = self.path.with_name(f".{self.path.name}.writing")
            try:
                temporary.write_text(text)
                temporary.replace(self.path)
            except OSError as err:
                temporary.unlink(missing_ok=True)
                problem = err.strerror or str(err)
                raise ReleaseError(f"cannot write {self.path.name}: {problem}") from None


def _child(node: CommentedMap, *keys: str) -> CommentedMap:
    for key in keys:
        if not isinstance(node.get(key), Mapping):
            node[key] = CommentedMap()
        node = node[key]
    return node


# --------------------------------------------------------------------------- what is deployed


Outputs = dict[str, Any]


def read_outputs(stack: str, outputs_file: Path | None) -> Outputs:
    """The stack's outputs: from a file, or ``pulumi stack output --json`` (fails closed: an
    error is an error, never "nothing deployed")."""
    if outputs_file is not None:
        try:
            data = json.loads(outputs_file.read_text())
        except (OSError, ValueError) as err:
            raise ReleaseError(
                f"--outputs {outputs_file}: not a JSON outputs file ({err})"
            ) from None
    else:
        pulumi = find_pulumi()
        if pulumi is None:
            raise ReleaseError(
                "the Pulumi CLI is not on PATH: install it, or pass --outputs FILE "
                "(pulumi stack output --json > FILE)"
            )
        result = _run_pulumi(
            [pulumi, "stack", "output", "--json", "--stack", stack], capture_output=True, text=True
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise ReleaseError(f"pulumi stack output failed: {last}")
        try:
            data = json.loads(result.stdout or "{}")
        except ValueError:
            raise ReleaseError("pulumi stack output did not print JSON") from None
    if not isinstance(data, dict):
        raise ReleaseError("the stack outputs are not a JSON object")
    return data


def deployed_app(outputs: Outputs, app: str) -> dict[str, Any] | None:
    """What the outputs say of ``app``; ``None`` when it is not deployed."""
    apps = outputs.get("apps")
    entry = apps.get(app) if isinstance(apps, dict) else None
    return entry if isinstance(entry, dict) else None


# --------------------------------------------------------------------------- rendering


def merged(stack: str, text: str | None = None) -> stackfile.StackConfig:
    """The stack's config as the engine would pass it, from the stack file or from ``text`` in
    its place (a step's edit, before it is written): Pulumi.yaml and that one stack file are
    copied to a scratch folder."""
    if text is None:
        return stackfile.merged(stack)
    with scratch_dir("gke-bluegreen-release-") as folder:
        (folder / "stacks").mkdir()
        project = {**stackfile.project(), "stackConfigDir": "stacks"}
        (folder / "Pulumi.yaml").write_text(json.dumps(project))
        (folder / "stacks" / stackfile.stack_file(stack).name).write_text(text)
        return stackfile.merged(stack, path=folder / "Pulumi.yaml")


def settings_of(stack: str, text: str | None = None) -> Settings:
    """The program's settings for the stack file (or for ``text`` in its place)."""
    config = merged(stack, text)
    values = {
        k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith(f"{PROJECT}:")
    }
    secrets = values.pop("secrets", None)
    return parse(values, stack, secrets)


def render(stack: str, text: str | None = None) -> program.Render:
    """The real program offline, on the stack file (or ``text`` in its place)."""
    return program.run(merged(stack, text))


@dataclass(frozen=True)
class Change:
    """One Kubernetes object ``pulumi up`` would change, and how."""

    kind: str
    name: str
    how: str
    """``rolls`` (pods restart), ``scales``, ``moves traffic``, ``re-checks``, ``creates``,
    ``deletes``, ``updates``."""
    color: str | None
    """The color it belongs to, if any."""

    def line(self) -> str:
        return f"  {self.how:<14} {self.kind} {self.name}" + (
            f" ({self.color})" if self.color else ""
        )


def diff(before: program.Render, after: program.Render) -> list[Change]:
    """What changes between two renders, object by object (the manifests pulumi would apply)."""
    left = {(m["kind"], m["metadata"]["name"]): m for m in before.manifests()}
    right = {(m["kind"], m["metadata"]["name"]): m for m in after.manifests()}
    changes: list[Change] = []
    # A changed Job or auto-named ConfigMap/Secret is a new name: it shows as created (the new
    # one) and deleted (the one it replaces).
    for key in sorted(left.keys() | right.keys()):
        old, new = left.get(key), right.get(key)
        if old == new:
            continue
        manifest = new or old
        assert manifest is not None
        labels = manifest["metadata"].get("labels") or {}
        color = labels.get("color") or labels.get("target-color")
        kind, name = key
        if old is None or new is None:
            how = {"Job": "re-checks"}.get(kind, "creates") if old is None else "deletes"
            if kind in ("ConfigMap", "Secret") and old is None:
                how = "rolls"
        elif kind == "Deployment":
            same_pods = _without(old, "replicas") == _without(new, "replicas")
            how = "scales" if same_pods else "rolls"
        elif kind == "Service" and old["spec"].get("selector") != new["spec"].get("selector"):
            how = "moves traffic" if labels.get("role") is None else "re-targets"
        else:
            how = "updates"
        changes.append(Change(kind, name, how, color))
    old_urns = {r.urn: r for r in before.resources if not is_kubernetes(r)}
    new_urns = {r.urn: r for r in after.resources if not is_kubernetes(r)}
    for urn in sorted(old_urns.keys() ^ new_urns.keys()):
        r = new_urns.get(urn) or old_urns[urn]
        if r.custom:
            how = "creates" if urn in new_urns else "deletes"
            changes.append(Change(r.type.split(":")[-1], r.name, how, None))
    old_delay = {r.name: r.inputs for r in before.resources if "ScaleDownDelay" in r.type}
    for r in after.resources:
        if "ScaleDownDelay" in r.type and old_delay.get(r.name, {}).get("active_color") != (
            r.inputs.get("active_color")
        ):
            seconds = int(r.inputs.get("seconds") or 0)
            if seconds:
                changes.append(Change("Pause", r.name, f"waits {seconds}s", None))
    return changes


def _without(deployment: Mapping[str, Any], field: str) -> dict[str, Any]:
    spec = {k: v for k, v in deployment["spec"].items() if k != field}
    return {**deployment, "spec": spec}


# --------------------------------------------------------------------------- steps


@dataclass
class Step:
    """A step's plan: the edited stack file and what it may change."""

    stack: str
    app: str
    file: StackFile
    summary: str
    #: Kinds of change this step may cause, per color role (``live``, ``other``, ``any``).
    allowed: Callable[[Change], bool]


def _pin(app: AppSettings, color: Color, image: str) -> dict[str, Any]:
    return {"color": color, "image": image, "config": cutover.snapshot_digest(app, color)}


def _record(node: CommentedMap, key: str, pin: Mapping[str, Any] | None) -> None:
    release = _child(node, "release")
    if pin is None:
        release.pop(key, None)
    else:
        release[key] = CommentedMap(pin)


def _pin_color(file: StackFile, app: AppSettings, color: Color, image: str) -> dict[str, Any]:
    """Makes ``color`` run exactly what it runs now, whatever the app-level config does next:
    the image by reference, its env and ConfigMaps as its own overrides, its secret values as
    its own encrypted copies. Returns its record."""
    node = file.app(app.name)
    spec = app.colors[color]
    colors = _child(node, "colors")
    entry = _child(colors, color)
    entry.pop("source", None)
    entry["image"] = image
    env: dict[str, Any] = {}
    for var in spec.env:
        if var.value is not None:
            env[var.name] = var.value
        else:
            ref = "secretKeyRef" if var.ref_kind == "secret" else "configMapKeyRef"
            env[var.name] = {ref: {"name": var.ref_name, "key": var.key}}
    if env:
        entry["env"] = CommentedMap(env)
    if spec.config_maps:
        entry["configMaps"] = CommentedMap(
            {cm: CommentedMap(dict(data)) for cm, data in spec.config_maps.items()}
        )
    digest = None
    if app.secret is not None:
        digest = _pin_secrets(file, app, color)
    pin = _pin(app, color, image)
    if digest:
        pin["secrets"] = digest
    return pin


def _pin_secrets(file: StackFile, app: AppSettings, color: Color) -> str:
    """Copies the app-level encrypted values into the color's own copy (ciphertext only: the
    tool never decrypts). A color that has its own copy keeps it."""
    secrets = file.config().get(SECRETS_KEY)
    values = secrets.get(app.name) if isinstance(secrets, Mapping) else None
    assert app.secret is not None
    if not isinstance(values, Mapping):
        raise ReleaseError(
            f"secrets.{app.name} is not set: set them first ("
            f"pulumi config set --secret --path 'secrets.{app.name}.{app.secret.keys[0]}' VALUE)"
        )
    copies = _child(values, "colors")  # type: ignore[arg-type]
    if color not in copies:
        copy_values = CommentedMap()
        for key in app.secret.keys:
            if key not in values:
                raise ReleaseError(f"secrets.{app.name}.{key} is not set")
            copy_values[key] = copy.deepcopy(values[key])
        copies[color] = copy_values
    return hashlib.sha256(json.dumps(_plain(copies[color]), sort_keys=True).encode()).hexdigest()


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _live_image(outputs: Outputs, app: str, color: Color) -> str:
    entry = deployed_app(outputs, app)
    if entry is None:
        raise ReleaseError(
            f"{app} is not deployed yet: the first `pulumi up` may build both colors; start a "
            "release after it"
        )
    image = (entry.get("images") or {}).get(color)
    if not isinstance(image, str) or not image:
        raise ReleaseError(f"the outputs name no image for {app}'s {color} color")
    return image


def plan_start(
    stack: str,
    app_name: str,
    outputs: Outputs,
    *,
    source: str | None = None,
    image: str | None = None,
    sets: Sequence[str] = (),
) -> Step:
    file = StackFile(stack)
    settings = settings_of(stack)
    app = _app(settings, app_name)
    record = app.release
    if record.previous is not None:
        raise ReleaseError(f"{app_name} is between promote and finish: finish (or roll back) first")
    live = app.active_color
    deployed = deployed_app(outputs, app_name)
    if deployed is not None and deployed.get("active_color") != live:
        raise ReleaseError(
            f"the cluster serves {deployed.get('active_color')} but the stack file says {live}: "
            "a cutover main does not record? see `status`"
        )
    idle = cutover.idle_color(app)
    node = file.app(app_name)
    if record.live is None:
        pin = _pin_color(file, app, live, _live_image(outputs, app_name, live))
        _record(node, "live", pin)
    if app.secret is not None:
        # The candidate reads the app-level values (a rotated secret reaches it, and only it).
        copies = (file.config().get(SECRETS_KEY) or {}).get(app_name) or {}
        if isinstance(copies.get("colors"), Mapping):
            copies["colors"].pop(idle, None)
    entry = _child(node, "colors", idle)
    if source is not None:
        entry.pop("image", None)
        entry["source"] = source
    elif image is not None:
        entry.pop("source", None)
        entry["image"] = image
    for item in sets:
        _set(file, item)
    if node.get("idleReplicas") == 0:
        node["idleReplicas"] = 1  # a candidate with no pods has nothing to check
    try:
        after = settings_of(stack, file.text())
    except ConfigError as err:
        raise ReleaseError(f"refused by the program: {err}") from None
    candidate = after.apps[app_name]
    _record(node, "candidate", _pin(candidate, idle, cutover.runs(candidate, idle)))
    return Step(
        stack,
        app_name,
        file,
        f"start: {live} stays live (pinned); {idle} becomes the candidate "
        f"({cutover.runs(candidate, idle)})",
        lambda c: c.color != live and c.how not in ("moves traffic",),
    )


def plan_promote(stack: str, app_name: str, rollback: bool = False) -> Step:
    file = StackFile(stack)
    app = _app(settings_of(stack), app_name)
    record = app.release
    node = file.app(app_name)
    if record.live is None:
        raise ReleaseError(f"{app_name} has no recorded release: `start` one first")
    if rollback:
        if record.previous is not None:
            target = record.previous
        else:
            other = cutover.idle_color(app)
            if record.candidate is not None:
                raise ReleaseError(
                    f"{other} is a new candidate, not the previous release: `promote` it, or "
                    "re-point it with `start`"
                )
            if app.colors[other].image is None:
                raise ReleaseError(
                    f"{other} no longer runs a pinned release: nothing to roll back to"
                )
            target = cutover.pin_of(app, other)
        # The color traffic leaves becomes the candidate again: a second promote re-releases it.
        _record(node, "candidate", dataclasses.asdict(record.live) if record.previous else None)
        _record(node, "previous", None)
        _record(node, "live", dataclasses.asdict(target))
        node["activeColor"] = target.color
        verb = "rollback"
    else:
        if record.candidate is None:
            raise ReleaseError(f"no candidate for {app_name}: `start` a release first")
        if record.previous is not None:
            raise ReleaseError(f"{app_name} was promoted already: `finish` or `rollback`")
        if app.secret is not None:
            # The new live color keeps the values it was checked with, whatever comes next.
            _pin_secrets(file, app, record.candidate.color)
        _record(node, "previous", dataclasses.asdict(record.live))
        _record(node, "live", dataclasses.asdict(record.candidate))
        _record(node, "candidate", None)
        node["activeColor"] = record.candidate.color
        target = record.candidate
        verb = "promote"
    return Step(
        stack,
        app_name,
        file,
        f"{verb}: traffic moves to {target.color} ({target.image})",
        lambda c: (
            c.how in ("moves traffic", "re-targets", "scales", "updates") or c.kind == "Pause"
        ),
    )


def plan_finish(stack: str, app_name: str, outputs: Outputs, idle_replicas: int | None) -> Step:
    file = StackFile(stack)
    settings = settings_of(stack)
    app = _app(settings, app_name)
    record = app.release
    if record.previous is None or record.live is None:
        raise ReleaseError(f"{app_name} has nothing to finish: `promote` a candidate first")
    live = record.live.color
    node = file.app(app_name)
    image = app.colors[live].image or _live_image(outputs, app_name, live)
    deployed = deployed_app(outputs, app_name)
    if deployed is None or deployed.get("active_color") != live:
        raise ReleaseError(f"the cluster does not serve {live} yet: apply the promote first")
    pin = _pin_color(file, app, live, image)
    _record(node, "live", pin)
    _record(node, "previous", None)
    current = node.get("idleReplicas")
    node["idleReplicas"] = (
        idle_replicas if idle_replicas is not None else (current if current is not None else 1)
    )
    old = record.previous.color
    return Step(
        stack,
        app_name,
        file,
        f"finish: {live} pinned ({image}); {old} freed and scaled to {node['idleReplicas']}",
        lambda c: (
            (c.how in ("scales", "updates") and c.color in (old, None))
            or (c.kind == "Image" and c.how == "deletes")
        ),
    )


def _app(settings: Settings, name: str) -> AppSettings:
    if name not in settings.apps:
        raise ReleaseError(f"no app {name!r}; apps: {', '.join(settings.apps)}")
    return settings.apps[name]


def _set(file: StackFile, item: str) -> None:
    path, sep, text = item.partition("=")
    if not sep:
        raise ReleaseError(f"--set {item!r}: expected PATH=VALUE")
    try:
        key, segments = stackfile.parse_path(path)
    except stackfile.StackFileError as err:
        raise ReleaseError(str(err)) from None
    node: Any = file.config()
    names: list[Any] = [key, *segments]
    for part in names[:-1]:
        if not isinstance(node, CommentedMap) or not isinstance(part, str):
            raise ReleaseError(f"--set {path}: only object keys can be set by the release tool")
        if not isinstance(node.get(part), CommentedMap):
            node[part] = CommentedMap()
        node = node[part]
    if not isinstance(names[-1], str) or not isinstance(node, CommentedMap):
        raise ReleaseError(f"--set {path}: only object keys can be set by the release tool")
    node[names[-1]] = stackfile.coerce(text)


# --------------------------------------------------------------------------- running a step


def show(step: Step) -> tuple[list[Change], list[Change]]:
    """Renders before and after; returns (every change, the ones the step may not make)."""
    try:
        before = render(step.stack)
    except (ConfigError, stackfile.StackFileError) as err:
        raise ReleaseError(f"the stack file does not render now: {err}") from None
    try:
        after = render(step.stack, step.file.text())
    except ConfigError as err:
        raise ReleaseError(f"refused by the program: {err}") from None
    changes = diff(before, after)
    return changes, [c for c in changes if not step.allowed(c)]


def run_step(step: Step, apply: bool, out: Callable[[str], None]) -> None:
    changes, forbidden = show(step)
    out(step.summary)
    out("pulumi up will:" if changes else "pulumi up will change no Kubernetes object")
    for change in changes:
        out(change.line())
    if forbidden:
        first = forbidden[0]
        raise ReleaseError(
            f"refused: {first.kind} {first.name}"
            + (f" ({first.color})" if first.color else "")
            + f" {first.how}, which this step must not do; nothing written"
        )
    step.file.write()
    out(f"wrote {step.file.path}")
    if apply:
        pulumi_up(step.stack, step.summary)


def pulumi_up(stack: str, message: str) -> None:
    pulumi = find_pulumi()
    if pulumi is None:
        raise ReleaseError("--apply needs the Pulumi CLI on PATH")
    result = _run_pulumi([pulumi, "up", "--stack", stack, "--yes", "--message", message])
    if result.returncode != 0:
        raise ReleaseError(f"pulumi up failed (exit {result.returncode}); see its output above")


def _run_pulumi(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """Runs the Pulumi CLI from the project root; a CLI that cannot start or does not finish
    within PULUMI_TIMEOUT_S is one error line (ReleaseError), not a traceback."""
    try:
        with uninterrupted(f"{' '.join(argv[1:3])} finished first (it handles Ctrl-C itself)"):
            return subprocess.run(argv, timeout=PULUMI_TIMEOUT_S, check=False, cwd=ROOT, **kwargs)
    except subprocess.TimeoutExpired:
        raise ReleaseError(
            f"{' '.join(argv[1:3])} did not finish within {PULUMI_TIMEOUT_S} s; stopped it"
        ) from None
    except OSError as err:
        raise ReleaseError(f"cannot run {argv[0]}: {err.strerror or err}") from None


# --------------------------------------------------------------------------- after a promote


@dataclass(frozen=True)
class Verification:
    """How the live URL is checked after a promote."""

    requests: int = 10
    interval_s: float = 1.0
    timeout_s: float = 5.0


def verify_live(url: str, app: AppSettings, v: Verification) -> str | None:
    """``None`` when ``v.requests`` requests to the live URL all answer as the smoke check
    expects; else what was seen."""
    target = url.rstrip("/") + app.smoke.path
    for n in range(1, v.requests + 1):
        try:
            with urllib.request.urlopen(target, timeout=v.timeout_s) as response:  # noqa: S310
                status, body = response.status, response.read(1 << 20).decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, body = err.code, ""
        except (OSError, ValueError) as err:
            return f"request {n}/{v.requests} to {target}: no answer ({err})"
        if status != app.smoke.status:
            return f"request {n}/{v.requests} to {target}: {status}, expected {app.smoke.status}"
        if app.smoke.text and app.smoke.text not in body:
            return f"request {n}/{v.requests} to {target}: no {app.smoke.text!r} in the page"
        if n < v.requests:
            time.sleep(v.interval_s)
    return None


def promote_and_verify(
    stack: str,
    app_name: str,
    outputs_file: Path | None,
    verification: Verification,
    out: Callable[[str], None],
) -> None:
    step = plan_promote(stack, app_name)
    run_step(step, apply=True, out=out)
    outputs = read_outputs(stack, outputs_file)
    url = (deployed_app(outputs, app_name) or {}).get("url") or ""
    if not url:
        out(f"not verified: {app_name} has no public URL (a ClusterIP or local Service)")
        return
    app = settings_of(stack).apps[app_name]
    problem = verify_live(str(url), app, verification)
    if problem is None:
        out(f"verified: {verification.requests} requests to {url} answered {app.smoke.status}")
        return
    out(f"live check failed: {problem}; rolling back")
    run_step(plan_promote(stack, app_name, rollback=True), apply=True, out=out)
    raise ReleaseError(f"promote rolled back: {problem}")


# --------------------------------------------------------------------------- status and check


def status(stack: str, app_filter: str | None, outputs: Outputs | None) -> list[str]:
    settings = settings_of(stack)
    chosen = [_app(settings, app_filter)] if app_filter is not None else settings.apps.values()
    lines: list[str] = []
    for app in chosen:
        record = app.release
        deployed = deployed_app(outputs or {}, app.name)
        lines.append(f"{app.name}: active {app.active_color}")
        for role, pin in (
            ("live", record.live),
            ("candidate", record.candidate),
            ("previous", record.previous),
        ):
            if pin is not None:
                lines.append(f"  {role:<9} {pin.color} {pin.image} config {pin.config[:12]}")
        if record.live is None:
            lines.append("  no release recorded: the live color is not protected yet (start one)")
        if deployed is not None and deployed.get("active_color") != app.active_color:
            lines.append(
                f"  DRIFT: the cluster serves {deployed.get('active_color')}, the stack file says "
                f"{app.active_color}"
            )
        for color in COLORS:
            lines.append(f"  {color:<9} runs {cutover.runs(app, color)}")
    return lines


def check(stack: str, outputs: Outputs) -> list[str]:
    """What makes a deploy of this stack unsafe: a deployed app whose live color nothing
    protects, or whose live image the cluster does not run."""
    problems = []
    for app in settings_of(stack).apps.values():
        deployed = deployed_app(outputs, app.name)
        if deployed is None:
            continue
        live = app.release.live
        if live is None:
            problems.append(
                f"{app.name}: deployed, but no live color is recorded, so a code or config change "
                f"would roll it in place: python -m infra.release start --stack {stack} --app "
                f"{app.name}"
            )
            continue
        served = deployed.get("active_color")
        if served not in (live.color, (app.release.previous or live).color):
            problems.append(
                f"{app.name}: the cluster serves {served}, the record says {live.color}"
            )
        image = (deployed.get("images") or {}).get(live.color)
        if image and not live.image.startswith("src-") and image != live.image:
            problems.append(
                f"{app.name}: the cluster runs {image} on {live.color}; the record says "
                f"{live.image}"
            )
    return problems


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m infra.release", description=(__doc__ or "").split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = OneLineParser(add_help=False)
    common.add_argument("--stack", required=True)
    common.add_argument("--outputs", type=Path, help="a `pulumi stack output --json` file")
    for name in ("start", "promote", "rollback", "finish"):
        p = sub.add_parser(name, parents=[common])
        p.add_argument("--app", required=True)
        p.add_argument("--apply", action="store_true", help="run pulumi up after writing")
        if name == "start":
            what = p.add_mutually_exclusive_group()
            what.add_argument("--source", help="the idle color's new source folder under apps/")
            what.add_argument("--image", help="the idle color's new image reference")
            p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
        if name == "finish":
            p.add_argument("--idle-replicas", type=int, help="pods the previous color keeps")
        if name == "promote":
            p.add_argument("--verify-requests", type=int, default=10)
    p = sub.add_parser("status", parents=[common])
    p.add_argument("--app")
    p = sub.add_parser("verify", parents=[common])
    p.add_argument("--app", required=True)
    p.add_argument("--requests", type=int, default=10)
    sub.add_parser("check", parents=[common])
    args = parser.parse_args(argv)
    out = print
    try:
        stackfile.stack_file(args.stack)
        if args.command == "status":
            outputs = read_outputs(args.stack, args.outputs) if args.outputs else None
            for line in status(args.stack, args.app, outputs):
                out(line)
            return 0
        if args.command == "verify":
            if not 1 <= args.requests <= 1000:
                raise ReleaseError("--requests: a whole number from 1 to 1000")
            url = (deployed_app(read_outputs(args.stack, args.outputs), args.app) or {}).get("url")
            if not url:
                out(f"not verified: {args.app} has no public URL (a ClusterIP or local Service)")
                return 0
            problem = verify_live(
                str(url), _app(settings_of(args.stack), args.app), Verification(args.requests)
            )
            out(f"live check failed: {problem}" if problem else f"verified: {url}")
            return 1 if problem else 0
        if args.command == "check":
            problems = check(args.stack, read_outputs(args.stack, args.outputs))
            for line in problems:
                out(f"unsafe: {line}")
            out(f"{args.stack}: {'not safe to deploy' if problems else 'safe to deploy'}")
            return 1 if problems else 0
        if args.command == "start":
            step = plan_start(
                args.stack,
                args.app,
                read_outputs(args.stack, args.outputs),
                source=args.source,
                image=args.image,
                sets=args.set,
            )
        elif args.command == "promote":
            if args.apply:
                if not 1 <= args.verify_requests <= 1000:
                    raise ReleaseError("--verify-requests: a whole number from 1 to 1000")
                promote_and_verify(
                    args.stack, args.app, args.outputs, Verification(args.verify_requests), out
                )
                return 0
            step = plan_promote(args.stack, args.app)
        elif args.command == "rollback":
            step = plan_promote(args.stack, args.app, rollback=True)
        else:
            if args.idle_replicas is not None and not 0 <= args.idle_replicas <= 1000:
                raise ReleaseError("--idle-replicas: a whole number from 0 to 1000")
            step = plan_finish(
                args.stack, args.app, read_outputs(args.stack, args.outputs), args.idle_replicas
            )
        run_step(step, args.apply, out)
    except (ReleaseError, stackfile.StackFileError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    run(main, "see the stack file and `pulumi stack` for what was done")
