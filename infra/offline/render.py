"""Offline render: run the real program under Pulumi mocks and write what it would create.

    python -m infra.offline.render --stack dev [--set PATH=VALUE]... [--set-secret PATH=VALUE]... \\
        --out DIR

PATH is written as for ``pulumi config set --path`` (``apps.kubia.activeColor``,
``apps.imageview.configMaps.projectid["project.id"]``); keys without a namespace belong to
``gke-bluegreen``. Writes

* ``DIR/resources.json``: the stack, its config (secrets redacted) and every registered resource
  (urn, type, name, parent, provider, dependencies, options, inputs with secrets as ``"[secret]"``);
* ``DIR/outputs.json``: the stack outputs (secrets redacted);
* ``DIR/manifests/<kind>-<name>.yaml``: every Kubernetes object as it would be applied, Secret
  values redacted;
* ``DIR/build-contexts/<image>/``: exactly the files each image would be built from.

DIR must be missing, empty, or an earlier render (it holds the marker file ``.render``); it is
never the repository or a folder above it. Declared secrets that are unset (or encrypted in the
stack file, which needs the stack's key) get placeholder values, still marked secret. Any bad input:
one line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

if __name__ == "__main__":  # before the imports below, which take most of a second
    from infra.cli import guard_start

    guard_start()

import argparse
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from infra import cli
from infra.cli import OneLineParser, run, scratch_dir, uninterrupted
from infra.offline import mocks, program, stackfile
from infra.paths import ROOT
from infra.settings import PROJECT, ConfigError

#: The file that marks a folder as a render this tool may replace.
MARKER = ".render"

DESCRIPTION = """\
Offline render: runs the real Pulumi program under mocks, with the config
`pulumi up --stack STACK` would give it (the stack file, Pulumi.yaml's
defaults, then any --set), and writes what it would create into OUT:
resources.json (every resource and its inputs), outputs.json, manifests/ (each
Kubernetes object as it would be applied) and build-contexts/ (the files each
image is built from). Needs no cloud account, Pulumi CLI or stack key: secrets
it cannot decrypt, or that are unset, get placeholders, and every secret is
written as "[secret]". Two renders of the same config are byte-identical. A bad
input is one error line and exit 2, with nothing written."""

EPILOG = """\
the usual sequence (make render / policy / scan STACK=dev run the same):
  python -m infra.offline.render --stack dev --out out/dev
  python -m policy.offline out/dev     every policy rule over the render
  make scan STACK=dev NO_RENDER=1      checkov over out/dev/manifests and
                                       the Dockerfiles
to review a change: render before and after it, then diff -r out/a out/b

exit status: 0 written, 2 a bad input or a full disk (nothing written), 130
interrupted by Ctrl-C or SIGTERM (OUT as it was)"""


class OutError(Exception):
    """``--out`` names a folder this tool must not write; the message is one line."""


def check_out(out: Path | str) -> Path:
    """``out`` resolved, when it is safe to (re)place with a render."""
    if not str(out).strip():
        raise OutError("--out is empty: name a folder for the render, e.g. --out out/dev")
    out = Path(out)
    target = out.resolve()
    if ROOT.is_relative_to(target):
        raise OutError(
            f"--out {out}: that is the repository or a folder above it; name a folder inside, "
            "e.g. out/<stack>"
        )
    for parent in [target, *target.parents]:
        if parent.exists() and not parent.is_dir():
            raise OutError(
                f"--out {out}: {parent} is a file, not a folder; name a folder, e.g. out/<stack>"
            )
    if target.exists() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise OutError(
            f"--out {out}: the folder holds files that are not an earlier render (no {MARKER} "
            "marker); name a new or empty folder"
        )
    return target


def write(render: program.Render, out: Path, contexts: Path | None = None) -> None:
    """Writes the render (and the staged build ``contexts``) to ``out`` atomically: a failed or
    interrupted write leaves ``out`` as it was."""
    target = check_out(out)
    with uninterrupted(f"the render was written to {out}"):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".render-", dir=target.parent))
        except OSError as err:
            raise _cannot_write(out, err) from None
        try:
            _write_files(render, staging)
            if contexts is not None and contexts.is_dir():
                shutil.copytree(contexts, staging / "build-contexts", dirs_exist_ok=True)
            if target.exists():
                # Swap by renames: an earlier render is removed once the new one is in place.
                old = Path(tempfile.mkdtemp(prefix=".render-old-", dir=target.parent))
                target.rename(old / "render")
                staging.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                staging.rename(target)
        except OSError as err:
            raise _cannot_write(out, err) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _cannot_write(out: Path, err: OSError) -> OutError:
    if cli.disk_full(err):
        return OutError(
            f"--out {out}: the disk is full ({err.strerror}), nothing written; free some space, "
            "or name a folder on another disk"
        )
    return OutError(
        f"--out {out}: cannot write there ({err.strerror}); name a folder you can write, "
        "e.g. out/<stack>"
    )


def document(render: program.Render) -> dict[str, Any]:
    """``resources.json``: the stack, its redacted config and every resource."""
    config = {
        k.split(":", 1)[1] if k.startswith(f"{PROJECT}:") else k: (
            mocks.secret(v) if k in render.config.secret_keys else v
        )
        for k, v in render.config.values.items()
    }
    return {
        "stack": render.stack,
        "project": PROJECT,
        "config": mocks.redact_leaves(config),
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "provider": r.provider,
                "dependencies": sorted(r.dependencies),
                "options": {"protect": r.protect, "retainOnDelete": r.retain_on_delete},
                "inputs": _inputs(r),
            }
            for r in sorted(render.resources, key=lambda r: r.urn)
        ],
    }


def _write_files(render: program.Render, folder: Path) -> None:
    (folder / MARKER).write_text(f"offline render of stack {render.stack}\n")
    (folder / "resources.json").write_text(json.dumps(document(render), indent=2, sort_keys=True))
    (folder / "outputs.json").write_text(
        json.dumps(mocks.redact(render.outputs), indent=2, sort_keys=True)
    )
    manifests = folder / "manifests"
    manifests.mkdir()
    for obj in render.manifests():
        file = manifests / f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        file.write_text(yaml.safe_dump(obj, sort_keys=False))


def _inputs(r: mocks.Registered) -> dict[str, Any]:
    inputs = mocks.redact(r.inputs)
    if "__provider" in inputs:
        # A dynamic provider's pickled code: meaningless to a reviewer, and large.
        inputs["__provider"] = "[serialized dynamic provider]"
    return dict(inputs)


def render(
    stack: str, sets: Sequence[str] = (), secret_sets: Sequence[str] = (), out: Path | None = None
) -> program.Render:
    """Renders ``stack`` with overrides; with ``out``, writes it there (build contexts too)."""
    config = stackfile.merged(stack, sets, secret_sets)
    if out is None:
        return program.run(config)
    target = check_out(out)
    with scratch_dir("gke-bluegreen-render-") as scratch:
        contexts = scratch / "build-contexts"
        try:
            result = program.run(config, staging=contexts)
        except OSError as err:
            if not cli.disk_full(err):
                raise
            raise OutError(
                f"no room to stage the build contexts in {scratch.parent} ({err.strerror}), "
                "nothing written; free some space there, or point TMPDIR at a folder with room"
            ) from None
        write(result, target, contexts)
    return result


def parser() -> OneLineParser:
    """The command line: what ``--help`` shows."""
    parser = OneLineParser(
        prog="python -m infra.offline.render",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack",
        required=True,
        help="the stack to render: the name of its file stacks/Pulumi.<stack>.yaml "
        f"({stackfile.stack_names_shown()}); required",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="change one config value for this render only (the stack file stays as it is), "
        "typed as `pulumi config set --path PATH VALUE` types it (true and false are booleans, "
        "whole numbers without a leading 0 are numbers, the rest is text). PATH as "
        "apps.kubia.replicas or "
        'apps.imageview.configMaps.projectid["project.id"]; a key without a namespace belongs '
        "to gke-bluegreen. Repeatable; later ones win",
    )
    parser.add_argument(
        "--set-secret",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="the same for a secret value, as `pulumi config set --secret --path`, e.g. "
        "secrets.imageview.id=VALUE; written as [secret]. Repeatable",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="OUT",
        help="the folder to write the render to: a new or empty one, or an earlier render (it "
        f"holds a {MARKER} file), which is replaced whole; never the repository or a folder "
        "above it; required",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        out = check_out(args.out)
        result = render(args.stack, args.set, args.set_secret, out)
    except (stackfile.StackFileError, ConfigError, OutError) as error:
        return cli.error(str(error), cli.EXIT_USAGE)
    kinds = len(result.manifests())
    print(
        f"rendered stack {args.stack}: {len(result.resources)} resources, {kinds} Kubernetes "
        f"objects -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    run(main, "nothing written")
