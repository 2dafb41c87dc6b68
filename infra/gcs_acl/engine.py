"""The engine: grant, revoke and check one ACL entry on every object of a GCS bucket.

S1's ``gsutil acl ch -r -u AllUsers:R gs://BUCKET`` with google-cloud-storage: objects are listed
page by page with their ACLs (``projection=full``), and only the objects that lack (or, for a
revoke, hold) the entry are patched, by a bounded thread pool. Each patch is conditional on the
object's metageneration, so a concurrent change is re-read instead of overwritten, and transient
failures (429, 5xx, dropped connections) are retried with exponential backoff.

Credentials: application default credentials on real GCS; anonymous against an emulator
(``STORAGE_EMULATOR_HOST`` set). Every failure the operator can act on is a :class:`GcsAclError`
with a one-line message; an error raised mid-run carries the partial :class:`Summary`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import google.auth
import google.auth.exceptions
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from infra.gcs_acl.spec import (
    ENTITY_ALIASES,
    IAM_ROLE_FOR,
    ROLE_ALIASES,
    SAMPLE,
    AccessDeniedError,
    AclSpec,
    Action,
    BucketNotFoundError,
    CheckReport,
    CredentialsError,
    Finding,
    GcsAclError,
    InterruptedRunError,
    InvalidSpecError,
    ProgressFn,
    RequestError,
    RunSettings,
    Scan,
    Summary,
    TransportError,
    UniformAccessError,
    check_settings,
    holds,
    iam_member,
    needs_change,
    new_acl,
    normalize_bucket,
    normalize_entity,
    normalize_role,
    normalize_spec,
    with_grant,
    without_grant,
)

# The spec module's names are part of this module's interface (callers use engine.X).
__all__ = [
    "EMULATOR_ENV",
    "ENTITY_ALIASES",
    "IAM_ROLE_FOR",
    "ROLE_ALIASES",
    "SAMPLE",
    "AccessDeniedError",
    "AclSpec",
    "Action",
    "BucketNotFoundError",
    "CheckReport",
    "CredentialsError",
    "Finding",
    "GcsAclError",
    "InterruptedRunError",
    "InvalidSpecError",
    "ProgressFn",
    "RequestError",
    "RunSettings",
    "Scan",
    "Summary",
    "TransportError",
    "UniformAccessError",
    "apply",
    "check",
    "holds",
    "iam_member",
    "normalize_bucket",
    "normalize_entity",
    "normalize_role",
    "normalize_spec",
    "scan",
    "with_grant",
    "without_grant",
]

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"


# ----------------------------------------------------------------------------- client


class _Gcs:
    """Clients (one per thread: requests sessions are not shared) and the retry policy."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        emulator = os.environ.get(EMULATOR_ENV) or None
        # Tools differ on whether the variable carries a scheme (host:port is common): accept both.
        if emulator and "://" not in emulator:
            emulator = f"http://{emulator}"
        self.emulator = emulator
        self.credentials: Credentials
        self.project: str | None
        if self.emulator:
            self.credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            self.project = settings.project or "emulator"
        else:
            try:
                creds, default_project = google.auth.default(
                    scopes=["https://www.googleapis.com/auth/devstorage.full_control"]
                )
            except google.auth.exceptions.DefaultCredentialsError as err:
                first = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise CredentialsError(
                    "no application default credentials: run `gcloud auth application-default "
                    "login` or set GOOGLE_APPLICATION_CREDENTIALS (or STORAGE_EMULATOR_HOST for "
                    f"an emulator); {first}"
                ) from err
            self.credentials = creds
            self.project = settings.project or default_project or None
        self._local = threading.local()
        self._clients: list[storage.Client] = []
        self._lock = threading.Lock()
        self.retry: Retry = DEFAULT_RETRY.with_delay(
            initial=settings.retry_initial_s, maximum=settings.retry_max_s, multiplier=2.0
        ).with_timeout(settings.retry_deadline_s)

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages."""
        return self.emulator or "storage.googleapis.com"

    def client(self) -> storage.Client:
        """This thread's client."""
        found: storage.Client | None = getattr(self._local, "client", None)
        if found is None:
            options = {"api_endpoint": self.emulator} if self.emulator else None
            found = storage.Client(
                project=self.project, credentials=self.credentials, client_options=options
            )
            self._local.client = found
            with self._lock:
                self._clients.append(found)
        return found

    def close(self) -> None:
        """Close every client's HTTP session."""
        with self._lock:
            for c in self._clients:
                c.close()
            self._clients.clear()


def _translate(err: Exception, spec: AclSpec, gcs: _Gcs, doing: str) -> GcsAclError:
    """One-line error for a failure talking to GCS."""
    # The bucket is read before anything is changed: say so, an operator wants to know.
    untouched = "; nothing changed" if doing.startswith("reading bucket") else ""
    if isinstance(err, api_exceptions.NotFound):
        return BucketNotFoundError(
            f"bucket gs://{spec.bucket} does not exist (or is not visible to these "
            f"credentials) at {gcs.endpoint}{untouched}"
        )
    if isinstance(err, api_exceptions.Forbidden):
        return AccessDeniedError(
            f"access denied (403) while {doing} on gs://{spec.bucket}: the credentials need "
            "storage.buckets.get, storage.objects.list, storage.objects.getIamPolicy and "
            "storage.objects.setIamPolicy (e.g. roles/storage.admin); "
            f"GCS said: {_api_message(err)}{untouched}"
        )
    if isinstance(err, api_exceptions.RetryError) or _is_transient(err):
        cause = err.cause if isinstance(err, api_exceptions.RetryError) else err
        return TransportError(
            f"{gcs.endpoint} unreachable or failing while {doing} after retrying for "
            f"{gcs.settings.retry_deadline_s:g}s: {_short(cause)}"
        )
    if isinstance(err, api_exceptions.GoogleAPICallError):
        return RequestError(f"GCS rejected {doing} on gs://{spec.bucket}: {_api_message(err)}")
    return RequestError(f"unexpected failure while {doing} on gs://{spec.bucket}: {_short(err)}")


def _is_transient(err: BaseException | None) -> bool:
    predicate: Callable[[BaseException], bool] = DEFAULT_RETRY._predicate
    return err is not None and predicate(err)


def _api_message(err: api_exceptions.GoogleAPICallError) -> str:
    return _short(err.message or str(err))


def _short(err: object) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else type(err).__name__
    return first if len(first) <= 200 else first[:197] + "..."


def _bucket_meta(gcs: _Gcs, spec: AclSpec, doing: str) -> storage.Bucket:
    try:
        return gcs.client().get_bucket(spec.bucket, retry=gcs.retry)
    except Exception as err:
        raise _translate(err, spec, gcs, doing) from err


def _ubla(bucket: storage.Bucket) -> bool:
    return bool(bucket.iam_configuration.uniform_bucket_level_access_enabled)


def _refuse_ubla(spec: AclSpec) -> UniformAccessError:
    return UniformAccessError(
        f"gs://{spec.bucket} has uniform bucket-level access on: object ACLs are disabled, "
        f"nothing changed. Use the IAM mode instead: grant {IAM_ROLE_FOR[spec.role]} to "
        f"{iam_member(spec.entity)} on the bucket (registry publicRead with "
        "uniformBucketLevelAccess)"
    )


def _pages(
    gcs: _Gcs, spec: AclSpec, summary_pages: Callable[[], None]
) -> Iterator[list[tuple[str, int, list[dict[str, Any]] | None]]]:
    """Pages of (name, metageneration, acl or None when the listing omitted it)."""
    blobs = gcs.client().list_blobs(
        spec.bucket,
        prefix=spec.prefix or None,
        page_size=gcs.settings.page_size,
        projection="full",
        fields="items(name,metageneration,acl(entity,role)),nextPageToken",
        retry=gcs.retry,
    )
    for page in blobs.pages:
        summary_pages()
        yield [
            (
                b.name,
                int(b.metageneration or 0),
                b._properties.get("acl"),  # the listing's projection=full ACL, if it came
            )
            for b in page
        ]


# ----------------------------------------------------------------------------- grant / revoke


def apply(
    action: Action,
    spec: AclSpec,
    settings: RunSettings | None = None,
    *,
    progress: ProgressFn | None = None,
    skip: Callable[[str], bool] | None = None,
) -> Summary:
    """Grant (or revoke) ``spec`` on every object under its prefix and return the summary.

    Idempotent: objects already as asked are counted, not patched. ``skip(name)`` excludes objects
    (the dynamic provider's update uses it to keep what a new spec still covers). Raises a
    :class:`GcsAclError` before any change for a missing bucket, 403 or uniform bucket-level
    access, and mid-run (with ``summary`` set) if GCS stays unreachable or refuses.
    """
    with _acl_session(spec, settings) as gcs:
        return _Run(action, spec, gcs, progress, skip).run()


class _Run:
    """One grant/revoke pass: list pages, patch what needs it through a bounded pool."""

    def __init__(
        self,
        action: Action,
        spec: AclSpec,
        gcs: _Gcs,
        progress: ProgressFn | None,
        skip: Callable[[str], bool] | None,
    ) -> None:
        self.action = action
        self.spec = spec
        self.gcs = gcs
        self.progress = progress
        self.skip = skip
        self.summary = Summary(action=action, spec=spec)
        self.started = time.monotonic()
        self.last_report = self.started
        self.lock = threading.Lock()
        self.fatal: list[GcsAclError] = []
        self.in_flight: dict[Future[str], str] = {}

    def run(self) -> Summary:
        """Do the pass; raises the first fatal error with the partial summary attached."""
        error: GcsAclError | None = None
        with ThreadPoolExecutor(self.gcs.settings.workers, thread_name_prefix="gcs-acl") as pool:
            try:
                self._feed(pool)
            except GcsAclError as err:
                error = err
            except KeyboardInterrupt:
                error = InterruptedRunError(
                    f"interrupted during {self.action} on {self.spec.where}"
                )
            except Exception as err:
                error = _translate(err, self.spec, self.gcs, f"listing {self.spec.where}")
            if error is not None or self.fatal:
                # Stop early: what has not started never will; what is running finishes.
                for f in [f for f in self.in_flight if f.cancel()]:
                    self.in_flight.pop(f)
            for f in list(self.in_flight):
                wait([f])
                self._done(f)
        error = error or (self.fatal[0] if self.fatal else None)
        self.summary.elapsed_s = time.monotonic() - self.started
        if error is not None:
            error.summary = self.summary
            raise error
        self.summary.complete = True
        return self.summary

    def _feed(self, pool: ThreadPoolExecutor) -> None:
        # A bounded window of submitted futures keeps memory flat for any number of objects.
        window = max(2 * self.gcs.settings.workers, 8)
        for page in _pages(self.gcs, self.spec, self._count_page):
            for name, metageneration, acl in page:
                if self.skip is not None and self.skip(name):
                    continue
                self.summary.scanned += 1
                if acl is not None and not needs_change(self.action, acl, self.spec):
                    self.summary.already += 1
                    continue
                while len(self.in_flight) >= window and not self.fatal:
                    finished, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
                    for f in finished:
                        self._done(f)
                if self.fatal:
                    return
                fut = pool.submit(self._change_one, name, metageneration, acl)
                self.in_flight[fut] = name
            self._report()

    def _count_page(self) -> None:
        self.summary.pages += 1

    def _report(self) -> None:
        now = time.monotonic()
        s = self.summary
        s.elapsed_s = now - self.started
        if self.progress and now - self.last_report >= self.gcs.settings.progress_interval_s:
            self.last_report = now
            self.progress(
                f"... {self.action} {self.spec.where}: scanned {s.scanned} ({s.pages} pages), "
                f"changed {s.changed}, unchanged {s.already}, failed {s.failed} "
                f"({s.elapsed_s:.1f}s)"
            )

    def _done(self, fut: Future[str]) -> None:
        name = self.in_flight.pop(fut)
        try:
            outcome = fut.result()
        except GcsAclError as err:
            with self.lock:
                self.fatal.append(err)
            return
        s = self.summary
        with self.lock:
            if outcome == "changed":
                s.changed += 1
            elif outcome == "already":
                s.already += 1
            elif outcome == "vanished":
                s.vanished += 1
            else:
                s.failed += 1
                if len(s.failures) < 20:
                    s.failures.append((name, outcome))

    def _change_one(self, name: str, metageneration: int, acl: list[dict[str, Any]] | None) -> str:
        """Patch one object's ACL; returns changed/already/vanished or a failure reason."""
        gcs, spec = self.gcs, self.spec
        client = gcs.client()
        blob = client.bucket(spec.bucket).blob(name)
        for _attempt in range(4):
            try:
                if acl is None:  # listing omitted the ACL: read it and a fresh metageneration
                    blob.reload(projection="full", retry=gcs.retry)
                    acl = blob._properties.get("acl") or []
                    metageneration = int(blob.metageneration or 0)
                if not needs_change(self.action, acl, spec):
                    return "already"
                # Loaded from the listing, so save() needs no extra GET to rebuild its entities.
                blob.acl.loaded = True
                blob.acl.save(
                    acl=new_acl(self.action, acl, spec),
                    client=client,
                    if_metageneration_match=metageneration,
                    retry=gcs.retry,
                )
                return "changed"
            except api_exceptions.NotFound:
                return "vanished"
            except api_exceptions.PreconditionFailed:
                acl = None  # changed under us: re-read and decide again
            except Exception as err:
                raise _translate(err, spec, gcs, f"patching the ACL of {name!r}") from err
        return "object kept changing under us (412 four times)"


# ----------------------------------------------------------------------------- scan / check


def scan(spec: AclSpec, settings: RunSettings | None = None) -> Scan:
    """List every object under the prefix and report which lack the entry (changes nothing).

    Raises like :func:`apply` for a missing bucket, 403 and uniform bucket-level access.
    """
    with _acl_session(spec, settings) as gcs:
        return _scan(gcs, spec)


@contextlib.contextmanager
def _acl_session(spec: AclSpec, settings: RunSettings | None) -> Iterator[_Gcs]:
    """A client for ``spec``'s bucket after the checks every ACL run needs first: settings
    valid, bucket readable, ACLs in use (uniform bucket-level access refused)."""
    settings = settings or RunSettings()
    check_settings(settings)
    gcs = _Gcs(settings)
    try:
        bucket = _bucket_meta(gcs, spec, f"reading bucket gs://{spec.bucket}")
        if _ubla(bucket):
            raise _refuse_ubla(spec)
        yield gcs
    finally:
        gcs.close()


def _scan(gcs: _Gcs, spec: AclSpec) -> Scan:
    result = Scan(spec=spec)

    def count_page() -> None:
        result.pages += 1

    try:
        for page in _pages(gcs, spec, count_page):
            for name, _mg, listed_acl in page:
                acl = listed_acl
                if acl is None:
                    blob = gcs.client().bucket(spec.bucket).blob(name)
                    try:
                        blob.reload(projection="full", retry=gcs.retry)
                    except api_exceptions.NotFound:
                        continue
                    acl = blob._properties.get("acl") or []
                result.scanned += 1
                if holds(acl, spec.entity, spec.role):
                    result.holding += 1
                else:
                    result.missing += 1
                    if len(result.sample) < SAMPLE:
                        result.sample.append(name)
    except Exception as err:
        raise _translate(err, spec, gcs, f"listing {spec.where}") from err
    return result


def check(spec: AclSpec, settings: RunSettings | None = None) -> CheckReport:
    """Is the bucket public as asked? Bucket ACL, default object ACL and objects; or, under
    uniform bucket-level access, the IAM binding. Raises for a missing bucket or 403."""
    settings = settings or RunSettings()
    check_settings(settings)
    gcs = _Gcs(settings)
    try:
        bucket = _bucket_meta(gcs, spec, f"reading bucket gs://{spec.bucket}")
        findings: list[Finding] = []
        try:
            if _ubla(bucket):
                iam_role = IAM_ROLE_FOR[spec.role]
                member = iam_member(spec.entity)
                policy = bucket.get_iam_policy(retry=gcs.retry)
                bound = member in policy.get(iam_role, set())
                findings.append(
                    Finding(
                        bound,
                        "IAM binding",
                        f"{member} {'has' if bound else 'lacks'} {iam_role} on "
                        f"gs://{spec.bucket} (uniform bucket-level access: ACLs do not apply)",
                    )
                )
                return CheckReport(spec, True, findings, None)
            bucket.acl.reload(retry=gcs.retry)
            bucket_acl = list(bucket.acl)
            ok = holds(bucket_acl, spec.entity, "READER")
            findings.append(
                Finding(
                    ok,
                    "bucket ACL",
                    f"{spec.entity} {'has' if ok else 'lacks'} READER on gs://{spec.bucket}"
                    + ("" if ok else " (it cannot list the objects)"),
                )
            )
            bucket.default_object_acl.reload(retry=gcs.retry)
            default_acl = list(bucket.default_object_acl)
            ok = holds(default_acl, spec.entity, spec.role)
            findings.append(
                Finding(
                    ok,
                    "default object ACL",
                    f"{spec.entity} {'has' if ok else 'lacks'} {spec.role} in the default "
                    f"object ACL" + ("" if ok else " (new objects will not be public)"),
                )
            )
        except Exception as err:
            raise _translate(err, spec, gcs, "reading the bucket ACLs") from err
        result = _scan(gcs, spec)
        missing = result.missing
        shown = ", ".join(result.sample[:10]) + (" ..." if missing > 10 else "")
        findings.append(
            Finding(
                missing == 0,
                "objects",
                f"{result.holding} of {result.scanned} objects under {spec.where} hold "
                f"{spec.entry}" + (f"; {missing} lack it: {shown}" if missing else ""),
            )
        )
        return CheckReport(spec, False, findings, result)
    finally:
        gcs.close()
