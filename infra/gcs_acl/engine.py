"""The engine: grant, revoke and check one ACL entry on every object of a GCS bucket.

S1's ``gsutil acl ch -r -u AllUsers:R gs://BUCKET`` with google-cloud-storage: objects are listed
page by page with their ACLs (``projection=full``), and only the objects that lack (or, for a
revoke, hold) the entry are patched, by a pool of worker threads fed from a bounded queue. Each
patch is conditional on the object's metageneration, so a concurrent change is re-read instead
of overwritten.

Overload. Every request (listing, reads, patches) takes a slot from one :class:`AdaptiveLimit`,
which keeps the number of requests in flight between 1 and ``workers`` the way TCP does
(additive increase, multiplicative decrease), as Cloud Storage's request-rate and retry guidance
asks of clients (https://cloud.google.com/storage/docs/request-rate,
https://cloud.google.com/storage/docs/retry-strategy): it starts with one request and adds one
per answered request until the first pushback, then one per round of answered requests; any
refusal, timeout, 429 or 5xx halves it (once per round) and the request is retried after an
exponential backoff with jitter. So a slow or overloaded backend makes a run slower, not
incomplete: a request gives up only after ``retry_deadline_s`` of its own failing attempts and
backoff (time queued behind other requests does not count).

Interruption (Ctrl-C): the first one stops the listing and every new attempt; requests already
sent are let finish and counted. A second one stops waiting for them. Either way the error
raised is :class:`InterruptedRunError` with the partial summary, whose ``left undone`` counts
what was not done. Worker threads are daemons, so a second Ctrl-C never waits on them.

Credentials: application default credentials on real GCS; anonymous against an emulator
(``STORAGE_EMULATOR_HOST`` set). Every failure the operator can act on is a :class:`GcsAclError`
with a one-line message; an error raised mid-run carries the partial :class:`Summary` (or, for a
check, the partial :class:`Scan`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import google.auth
import google.auth.exceptions
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from infra.gcs_acl.spec import (
    ENTITY_ALIASES,
    IAM_ROLE_FOR,
    LIMITS,
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
    normalize_prefix,
    normalize_project,
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
    "LIMITS",
    "ROLE_ALIASES",
    "SAMPLE",
    "AccessDeniedError",
    "AclSpec",
    "Action",
    "AdaptiveLimit",
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
    "normalize_prefix",
    "normalize_project",
    "normalize_role",
    "normalize_spec",
    "scan",
    "with_grant",
    "without_grant",
]

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_T = TypeVar("_T")
_Item = tuple[str, int, list[dict[str, Any]] | None]
"""(object name, metageneration, ACL from the listing or None when it was omitted)."""


class _StoppedError(Exception):
    """The run is stopping: this request was not sent (or not retried)."""


# ----------------------------------------------------------------------------- concurrency


class AdaptiveLimit:
    """How many requests may be in flight: AIMD between 1 and ``maximum``, thread-safe.

    Slow start from one request (one more per answered request, so it doubles every round)
    until the first pushback; after that one more per round of answered requests (``+1/limit``
    each). A pushback (refusal, timeout, 429, 5xx) halves the limit, at most once per round: a
    request sent before the last decrease saw the old load, and its failure is not counted again.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = 1.0
        """Requests allowed in flight (its integer part)."""
        self.threshold = float(maximum)
        """Below it the limit grows by one per answer (slow start), above by one per round."""
        self.in_flight = 0
        self.pushbacks = 0
        """Pushbacks seen (each one was retried)."""
        self.lowest = 0
        """The lowest limit a decrease went down to (0 = never decreased)."""
        self._epoch = 0
        self._cond = threading.Condition()

    def acquire(self, stop: threading.Event | None = None) -> int | None:
        """Wait for a free slot and take it; returns the token to hand to :meth:`release`, or
        None (no slot taken) once ``stop`` is set."""
        with self._cond:
            while self.in_flight >= int(self.limit):
                if stop is not None and stop.is_set():
                    return None
                self._cond.wait(0.1)
            self.in_flight += 1
            return self._epoch

    def release(self, token: int, *, pushed_back: bool) -> None:
        """Give the slot back, saying whether the backend pushed back on this request."""
        with self._cond:
            self.in_flight -= 1
            if pushed_back:
                self.pushbacks += 1
                if token == self._epoch:
                    self.limit = max(1.0, self.limit / 2)
                    self.threshold = self.limit
                    low = int(self.limit)
                    self.lowest = min(self.lowest, low) if self.lowest else low
                    self._epoch += 1
            elif self.limit < self.threshold:
                self.limit = min(self.limit + 1.0, float(self.maximum))
            else:
                self.limit = min(self.limit + 1.0 / self.limit, float(self.maximum))
            self._cond.notify_all()


# ----------------------------------------------------------------------------- client


class _Gcs:
    """Clients (one per thread: requests sessions are not shared), the limit on requests in
    flight, and the retry policy around every request."""

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
        self.limit = AdaptiveLimit(settings.workers)
        self.stop = threading.Event()
        """Set when the run stops: no request is sent or retried from then on."""
        self.timeout = (settings.connect_timeout_s, settings.read_timeout_s)
        """(connect, read) seconds, passed to every request."""

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

    def call(self, request: Callable[[], _T]) -> _T:
        """Run one request (made with ``retry=None`` and ``timeout=self.timeout``) in a slot of
        the adaptive limit; retry transient failures with backoff until the retry deadline.

        Raises the last failure when the deadline is spent (callers translate it), and
        :class:`_StoppedError` instead of sending or retrying once :attr:`stop` is set.
        """
        s = self.settings
        spent = 0.0
        delay = s.retry_initial_s
        while True:
            token = self.limit.acquire(self.stop)
            if token is None or self.stop.is_set():
                if token is not None:
                    self.limit.release(token, pushed_back=False)
                raise _StoppedError
            started = time.monotonic()
            pushed_back = False
            try:
                return request()
            except Exception as err:
                pushed_back = _is_transient(err)
                spent += time.monotonic() - started
                if not pushed_back or spent + delay / 2 > s.retry_deadline_s:
                    raise
            finally:
                self.limit.release(token, pushed_back=pushed_back)
            pause = random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not cryptography
            if self.stop.wait(pause):
                raise _StoppedError
            spent += pause
            delay = min(delay * 2, s.retry_max_s)

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
    if isinstance(err, GcsAclError):
        return err
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
    if _is_transient(err):
        return TransportError(
            f"{gcs.endpoint} unreachable or failing while {doing} after retrying for "
            f"{gcs.settings.retry_deadline_s:g}s: {_short(err)}"
        )
    if isinstance(err, api_exceptions.GoogleAPICallError):
        return RequestError(f"GCS rejected {doing} on gs://{spec.bucket}: {_api_message(err)}")
    return RequestError(f"unexpected failure while {doing} on gs://{spec.bucket}: {_short(err)}")


def _is_transient(err: BaseException | None) -> bool:
    """429, 408, 5xx, refused/reset connections and timeouts (google-cloud-storage's list)."""
    predicate: Callable[[BaseException], bool] = DEFAULT_RETRY._predicate
    return err is not None and predicate(err)


def _api_message(err: api_exceptions.GoogleAPICallError) -> str:
    return _short(err.message or str(err))


def _short(err: object) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else type(err).__name__
    return first if len(first) <= 200 else first[:197] + "..."


def _ubla(bucket: storage.Bucket) -> bool:
    return bool(bucket.iam_configuration.uniform_bucket_level_access_enabled)


def _refuse_ubla(spec: AclSpec) -> UniformAccessError:
    return UniformAccessError(
        f"gs://{spec.bucket} has uniform bucket-level access on: object ACLs are disabled, "
        f"nothing changed. Use the IAM mode instead: grant {IAM_ROLE_FOR[spec.role]} to "
        f"{iam_member(spec.entity)} on the bucket (registry publicRead with "
        "uniformBucketLevelAccess)"
    )


@contextlib.contextmanager
def _session(spec: AclSpec, settings: RunSettings | None) -> Iterator[tuple[_Gcs, storage.Bucket]]:
    """A client and the bucket's metadata, after the checks every run needs first: settings
    valid, bucket readable. The clients are closed afterwards."""
    settings = settings or RunSettings()
    check_settings(settings)
    gcs = _Gcs(settings)
    try:
        doing = f"reading bucket gs://{spec.bucket}"
        try:
            bucket = gcs.call(
                lambda: gcs.client().get_bucket(spec.bucket, retry=None, timeout=gcs.timeout)
            )
        except Exception as err:
            raise _translate(err, spec, gcs, doing) from err
        yield gcs, bucket
    finally:
        gcs.close()


def _pages(gcs: _Gcs, spec: AclSpec, on_page: Callable[[], None]) -> Iterator[list[_Item]]:
    """List pages of (name, metageneration, acl or None when the listing omitted it); each page
    is one request through :meth:`_Gcs.call` (so it is retried and counted like any other)."""
    token: str | None = None
    while True:

        def fetch(token: str | None = token) -> tuple[list[_Item], str | None]:
            blobs = gcs.client().list_blobs(
                spec.bucket,
                prefix=spec.prefix or None,
                page_size=gcs.settings.page_size,
                page_token=token,
                projection="full",
                fields="items(name,metageneration,acl(entity,role)),nextPageToken",
                retry=None,
                timeout=gcs.timeout,
            )
            page = next(blobs.pages)
            # The listing's projection=full ACL, when it came.
            items = [(b.name, int(b.metageneration or 0), b._properties.get("acl")) for b in page]
            return items, blobs.next_page_token

        items, token = gcs.call(fetch)
        on_page()
        yield items
        if not token:
            return


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
    access, and mid-run (with ``summary`` set) if GCS stays unreachable or refuses, or on Ctrl-C.
    """
    run: _Run | None = None
    try:
        with _session(spec, settings) as (gcs, bucket):
            if _ubla(bucket):
                raise _refuse_ubla(spec)
            run = _Run(action, spec, gcs, progress, skip)
            return run.run()
    except KeyboardInterrupt:
        if run is None:
            message = f"interrupted before {action} started on {spec.where}; nothing changed"
            summary = Summary(action=action, spec=spec)
        else:
            message, summary = f"interrupted during {action} on {spec.where}", run.summary
        raise InterruptedRunError(message, summary=summary) from None


class _Run:
    """One grant/revoke pass: the main thread lists and queues what needs a change, worker
    threads patch it. Counts go to ``summary`` under ``lock``."""

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
        self.working = 0
        """Objects a worker has taken from the queue and not finished."""
        self.abandoned = False
        """A second Ctrl-C stopped the wait: counts are frozen."""
        self.sentinels = 0
        """End-of-work markers queued for the workers so far."""
        # A bounded queue keeps memory flat for any number of objects.
        self.queue: queue.Queue[_Item | None] = queue.Queue(maxsize=2 * gcs.settings.workers)

    def run(self) -> Summary:
        """Do the pass; raises the first fatal error (or the interruption) with the partial
        summary attached."""
        threads = [
            threading.Thread(target=self._work, name=f"gcs-acl-{i}", daemon=True)
            for i in range(self.gcs.settings.workers)
        ]
        for t in threads:
            t.start()
        error: GcsAclError | None = None
        try:
            self._feed()
        except _StoppedError:
            pass  # a worker's fatal error stopped the run; it is in self.fatal
        except GcsAclError as err:
            error = err
        except KeyboardInterrupt:
            error = InterruptedRunError(f"interrupted during {self.action} on {self.spec.where}")
        except Exception as err:
            error = _translate(err, self.spec, self.gcs, f"listing {self.spec.where}")
        summary = self.summary
        interrupted = isinstance(error, InterruptedRunError)
        while True:
            if error is not None:
                self.gcs.stop.set()  # nothing new is sent; what is in flight finishes
            try:
                self._finish(threads, announce=interrupted)
                break
            except KeyboardInterrupt:
                if not interrupted:  # the first Ctrl-C came after the listing: same as before
                    interrupted = True
                    error = InterruptedRunError(
                        f"interrupted during {self.action} on {self.spec.where}"
                    )
                    continue
                summary, waiting = self._abandon(threads)
                error = InterruptedRunError(
                    f"interrupted again during {self.action} on {self.spec.where}: stopped "
                    f"waiting for {waiting} requests in flight (a re-run sees whether they "
                    "landed)"
                )
                break
        with self.lock:
            error = error or (self.fatal[0] if self.fatal else None)
            summary.elapsed_s = time.monotonic() - self.started
            summary.pushbacks = self.gcs.limit.pushbacks
            summary.lowest_in_flight = self.gcs.limit.lowest
            summary.complete = error is None and summary.listed_all and summary.undone == 0
        if error is not None:
            error.summary = summary
            raise error
        return summary

    def _feed(self) -> None:
        s = self.summary
        for page in _pages(self.gcs, self.spec, self._count_page):
            for name, metageneration, acl in page:
                if self.skip is not None and self.skip(name):
                    continue
                with self.lock:
                    s.scanned += 1
                    if acl is not None and not needs_change(self.action, acl, self.spec):
                        s.already += 1
                        continue
                self._put((name, metageneration, acl))
                self._report(page_end=False)
            self._report()
        s.listed_all = True

    def _put(self, item: _Item) -> None:
        while True:
            if self.gcs.stop.is_set():
                with self.lock:
                    self.summary.undone += 1
                raise _StoppedError
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                self._report(page_end=False)

    def _finish(self, threads: list[threading.Thread], *, announce: bool) -> None:
        """Let the workers empty the queue (or, when stopping, count it as undone) and exit.
        Can be called again after a Ctrl-C interrupted it."""
        if announce and self.progress is not None:
            waiting = self.gcs.limit.in_flight
            if waiting:
                plural = "s" if waiting != 1 else ""
                self.progress(
                    f"interrupted: letting {waiting} request{plural} in flight finish "
                    "(Ctrl-C again to stop waiting)"
                )
        while self.sentinels < len(threads):
            self.queue.put(None)
            self.sentinels += 1
        for t in threads:
            t.join()

    def _abandon(self, threads: list[threading.Thread]) -> tuple[Summary, int]:
        """Second Ctrl-C: freeze the counts (what is queued or in flight is left undone) and
        let the daemon workers run out on their own."""
        self.gcs.stop.set()
        with self.lock:
            self.abandoned = True
            taken = self.working
            frozen = dataclasses.replace(self.summary, failures=list(self.summary.failures))
        with contextlib.suppress(queue.Empty):
            while True:
                if self.queue.get_nowait() is not None:
                    frozen.undone += 1
        frozen.undone += taken
        waiting = self.gcs.limit.in_flight
        for _ in threads:
            with contextlib.suppress(queue.Full):
                self.queue.put_nowait(None)
        return frozen, waiting

    def _count_page(self) -> None:
        self.summary.pages += 1

    def _report(self, *, page_end: bool = True) -> None:
        """A progress line once ``progress_interval_s`` has passed: after a page, or while a
        long page is worked through (with an interval of 0, after every page only)."""
        now = time.monotonic()
        interval = self.gcs.settings.progress_interval_s
        if self.progress is None or now - self.last_report < interval:
            return
        if not page_end and interval == 0:
            return
        self.last_report = now
        limit = self.gcs.limit
        with self.lock:
            s = self.summary
            line = (
                f"... {self.action} {self.spec.where}: scanned {s.scanned} ({s.pages} pages), "
                f"changed {s.changed}, unchanged {s.already}, failed {s.failed} "
                f"({now - self.started:.1f}s)"
            )
        if limit.pushbacks:
            line += f", backend pushed back {limit.pushbacks} times: {int(limit.limit)} in flight"
        self.progress(line)

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            with self.lock:
                self.working += 1
            outcome = "undone"
            try:
                if not self.gcs.stop.is_set():
                    outcome = self._change_one(*item)
            except _StoppedError:
                pass
            except GcsAclError as err:
                with self.lock:
                    self.fatal.append(err)
                self.gcs.stop.set()
            except Exception as err:  # a bug, but never a silently dead worker
                with self.lock:
                    self.fatal.append(_translate(err, self.spec, self.gcs, f"patching {item[0]!r}"))
                self.gcs.stop.set()
            with self.lock:
                self.working -= 1
                if not self.abandoned:
                    self._count(item[0], outcome)

    def _count(self, name: str, outcome: str) -> None:
        s = self.summary
        if outcome == "changed":
            s.changed += 1
        elif outcome == "already":
            s.already += 1
        elif outcome == "vanished":
            s.vanished += 1
        elif outcome == "undone":
            s.undone += 1
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
                    gcs.call(
                        functools.partial(
                            blob.reload, projection="full", retry=None, timeout=gcs.timeout
                        )
                    )
                    acl = blob._properties.get("acl") or []
                    metageneration = int(blob.metageneration or 0)
                if not needs_change(self.action, acl, spec):
                    return "already"
                # Loaded from the listing, so save() needs no extra GET to rebuild its entities.
                blob.acl.loaded = True
                target = new_acl(self.action, acl, spec)
                gcs.call(
                    functools.partial(
                        blob.acl.save,
                        acl=target,
                        client=client,
                        if_metageneration_match=metageneration,
                        retry=None,
                        timeout=gcs.timeout,
                    )
                )
                return "changed"
            except api_exceptions.NotFound:
                return "vanished"
            except api_exceptions.PreconditionFailed:
                acl = None  # changed under us: re-read and decide again
            except _StoppedError:
                raise
            except Exception as err:
                raise _translate(err, spec, gcs, f"patching the ACL of {name!r}") from err
        return "object kept changing under us (412 four times)"


# ----------------------------------------------------------------------------- scan / check


def scan(spec: AclSpec, settings: RunSettings | None = None) -> Scan:
    """List every object under the prefix and report which lack the entry (changes nothing).

    Raises like :func:`apply` for a missing bucket, 403 and uniform bucket-level access, and
    :class:`InterruptedRunError` (with the partial scan) on Ctrl-C.
    """
    result = Scan(spec=spec)
    with _interruptible("scan", spec, result), _session(spec, settings) as (gcs, bucket):
        if _ubla(bucket):
            raise _refuse_ubla(spec)
        return _scan(gcs, spec, result)


@contextlib.contextmanager
def _interruptible(what: str, spec: AclSpec, partial: Scan) -> Iterator[None]:
    """Ctrl-C inside becomes an InterruptedRunError carrying the partial scan."""
    try:
        yield
    except KeyboardInterrupt:
        raise InterruptedRunError(
            f"interrupted during {what} on {spec.where}; nothing changed", scan=partial
        ) from None


def _scan(gcs: _Gcs, spec: AclSpec, result: Scan) -> Scan:
    def count_page() -> None:
        result.pages += 1

    try:
        for page in _pages(gcs, spec, count_page):
            for name, _mg, listed_acl in page:
                acl = listed_acl
                if acl is None:
                    blob = gcs.client().bucket(spec.bucket).blob(name)
                    try:
                        gcs.call(
                            functools.partial(
                                blob.reload, projection="full", retry=None, timeout=gcs.timeout
                            )
                        )
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
    uniform bucket-level access, the IAM binding. Raises for a missing bucket or 403, and
    :class:`InterruptedRunError` (with what was scanned so far) on Ctrl-C."""
    result = Scan(spec=spec)
    with _interruptible("check", spec, result), _session(spec, settings) as (gcs, bucket):
        findings: list[Finding] = []
        try:
            if _ubla(bucket):
                iam_role = IAM_ROLE_FOR[spec.role]
                member = iam_member(spec.entity)
                policy = gcs.call(lambda: bucket.get_iam_policy(retry=None, timeout=gcs.timeout))
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
            gcs.call(lambda: bucket.acl.reload(retry=None, timeout=gcs.timeout))
            ok = holds(list(bucket.acl), spec.entity, "READER")
            findings.append(
                Finding(
                    ok,
                    "bucket ACL",
                    f"{spec.entity} {'has' if ok else 'lacks'} READER on gs://{spec.bucket}"
                    + ("" if ok else " (it cannot list the objects)"),
                )
            )
            gcs.call(lambda: bucket.default_object_acl.reload(retry=None, timeout=gcs.timeout))
            ok = holds(list(bucket.default_object_acl), spec.entity, spec.role)
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
        _scan(gcs, spec, result)
        findings.append(_objects_finding(spec, result))
        return CheckReport(spec, False, findings, result)


def _objects_finding(spec: AclSpec, result: Scan) -> Finding:
    if result.scanned == 0:
        # An empty bucket is as public as it can be; a prefix that matches nothing is a mistake.
        return Finding(not spec.prefix, "objects", spec.nothing_matched())
    missing = result.missing
    shown = ", ".join(result.sample[:10]) + (" ..." if missing > 10 else "")
    return Finding(
        missing == 0,
        "objects",
        f"{result.holding} of {result.scanned} objects under {spec.where} hold "
        f"{spec.entry}" + (f"; {missing} lack it: {shown}" if missing else ""),
    )
