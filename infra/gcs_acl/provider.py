"""The dynamic provider behind :class:`infra.gcs_acl.resource.ObjectAclGrant`.

The engine unpickles this provider (dill, by reference: module + class) in ``python -m
pulumi.dynamic`` run from the project root (pulumi/pulumi sdk/python/lib/pulumi/dynamic/ at
1b59498), so this module must stay importable under this name, without side effects on import,
while a stack holds an ObjectAclGrant (docs/gcs_acl.md). The instance keeps no state, so its pickle
is the same on every run and names this class only, not the modules it imports.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime import rpc

from infra.gcs_acl.errors import (
    BucketNotFoundError,
    GcsAclError,
    InvalidSpecError,
    UniformAccessError,
)
from infra.gcs_acl.grant import apply
from infra.gcs_acl.scan import scan
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import (
    AclSpec,
    normalize_bucket,
    normalize_entity,
    normalize_role,
    normalize_spec,
)

INPUTS = ("bucket", "project", "entity", "role", "prefix")
"""Input property names (snake_case, as given to the dynamic resource)."""
OUTPUTS = ("objects_scanned", "objects_granted", "objects_changed", "objects_missing")
"""Computed properties: objects under the prefix, holding the grant, changed by the last
create/update, lacking it (0 after a successful apply; the drift after a refresh)."""


def _known(value: Any) -> bool:
    return value is not None and value != rpc.UNKNOWN


def spec_of(props: dict[str, Any]) -> AclSpec:
    """The normalised :class:`AclSpec` of a property bag (raises InvalidSpecError)."""
    return normalize_spec(
        str(props["bucket"]),
        str(props.get("prefix") or ""),
        str(props.get("entity") or "allUsers"),
        str(props.get("role") or "READER"),
    )


def _settings(props: dict[str, Any]) -> RunSettings:
    project = props.get("project")
    return RunSettings(project=str(project) if _known(project) and project else None)


def _inputs(props: dict[str, Any], spec: AclSpec) -> dict[str, Any]:
    return {
        "bucket": spec.bucket,
        "project": props.get("project") or None,
        "entity": spec.entity,
        "role": spec.role,
        "prefix": spec.prefix,
    }


def _failed(action: str, err: GcsAclError) -> GcsAclError:
    # The run's one-line message plus the progress made, so `pulumi up` shows both.
    text = f"{action} failed: {err}"
    if err.summary is not None:
        text += f" [partial progress: {err.summary.line()}]"
    return type(err)(text) if not isinstance(err, InvalidSpecError) else err


def _granted(spec: AclSpec, props: dict[str, Any]) -> dict[str, int]:
    """Run a grant and return the computed outputs; any failure raises (nothing recorded)."""
    try:
        summary = apply("grant", spec, _settings(props))
    except GcsAclError as err:
        raise _failed("grant", err) from err
    if summary.failed:
        names = ", ".join(n for n, _ in summary.failures[:5])
        raise GcsAclError(f"grant failed on {summary.failed} objects ({names}); {summary.line()}")
    return {
        "objects_scanned": summary.scanned - summary.vanished,
        "objects_granted": summary.changed + summary.already,
        "objects_changed": summary.changed,
        "objects_missing": 0,
    }


class ObjectAclProvider(ResourceProvider):
    """Grants ``entity:role`` on every object under ``prefix`` of ``bucket``; see module doc."""

    # Nothing secret is captured (credentials are read at run time), so keep state readable.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate and normalise the inputs (unknown values pass until they are known)."""
        inputs = dict(news)
        failures: list[CheckFailure] = []
        if news.get("bucket") is None:
            failures.append(CheckFailure("bucket", "bucket is required (a bucket name)"))
        checks = (
            ("bucket", normalize_bucket),
            ("entity", normalize_entity),
            ("role", normalize_role),
        )
        for key, normalize in checks:
            value = news.get(key)
            if _known(value):
                try:
                    inputs[key] = normalize(str(value))
                except InvalidSpecError as err:
                    failures.append(CheckFailure(key, str(err)))
        if not failures and all(_known(news.get(k)) for k in ("bucket", "entity", "role")):
            try:
                spec_of(inputs)
            except InvalidSpecError as err:
                failures.append(CheckFailure(err.field or "role", str(err)))
        return CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Grant on every existing object; fails (transactionally, re-runnable) on any error."""
        spec = spec_of(props)
        outs = _granted(spec, props)
        return CreateResult(f"{spec.where}#{spec.entry}", {**_inputs(props, spec), **outs})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Input changes (a new bucket replaces), else live drift: objects that lost the grant
        or were uploaded without it since the last apply."""
        if any(news.get(k) == rpc.UNKNOWN for k in INPUTS):
            return DiffResult(changes=True)  # preview with computed inputs: decided at apply
        new = spec_of(news)
        old = spec_of(olds)
        if new.bucket != old.bucket:
            return DiffResult(changes=True, replaces=["bucket"])
        if new != old or (olds.get("project") or None) != (news.get("project") or None):
            return DiffResult(changes=True)
        try:
            drift = scan(new, _settings(news))
        except GcsAclError as err:
            raise _failed("drift check", err) from err
        return DiffResult(changes=bool(drift.missing))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Grant the new spec first, then revoke the old one where the new does not cover it."""
        new = spec_of(news)
        old = spec_of(olds)
        outs = _granted(new, news)
        if old != new:
            covered = old.bucket == new.bucket and old.entity == new.entity
            try:
                apply(
                    "revoke",
                    old,
                    _settings(olds),
                    skip=(lambda name: name.startswith(new.prefix)) if covered else None,
                )
            except (BucketNotFoundError, UniformAccessError):
                pass  # the old target is gone or ACL-less: nothing left to revoke
            except GcsAclError as err:
                raise _failed("revoke of the previous grant", err) from err
        return UpdateResult({**_inputs(news, new), **outs})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Revoke the entry from every object under the prefix (a gone bucket is done)."""
        spec = spec_of(props)
        try:
            apply("revoke", spec, _settings(props))
        except (BucketNotFoundError, UniformAccessError):
            return  # deleted bucket, or ACLs disabled: no object holds the entry any more
        except GcsAclError as err:
            raise _failed("revoke", err) from err

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Live counts (``pulumi refresh``); a deleted bucket means the resource is gone."""
        spec = spec_of(props)
        try:
            found = scan(spec, _settings(props))
        except BucketNotFoundError:
            return ReadResult("", {})
        except GcsAclError as err:
            raise _failed("read", err) from err
        return ReadResult(
            id_,
            {
                **_inputs(props, spec),
                "objects_scanned": found.scanned,
                "objects_granted": found.holding,
                "objects_changed": int(props.get("objects_changed") or 0),
                "objects_missing": found.missing,
            },
        )
