"""Talking to GCS: clients and credentials, the retry policy around every request, paging, and the
translation of a failure into one :class:`~infra.gcs_acl.errors.GcsAclError` line.

Every request goes through :meth:`Gcs.call`: it takes a slot of the run's
:class:`~infra.gcs_acl.limit.AdaptiveLimit`, and a transient failure (refused, reset or timed-out
connection, 408, 429, 5xx) is a pushback, retried after an exponential backoff with jitter. A
request gives up only after ``retry_deadline_s`` of its own failing attempts and backoff (time
queued behind other requests does not count). Once the run stops (:attr:`Gcs.stop`) nothing is
sent or retried.

Credentials: application default credentials on real GCS; anonymous against an emulator
(``STORAGE_EMULATOR_HOST`` set).
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

import google.auth
import google.auth.exceptions
import google.cloud.storage as storage
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud.storage.retry import DEFAULT_RETRY

from infra.gcs_acl.acl import IAM_ROLE_FOR, iam_member
from infra.gcs_acl.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    CredentialsError,
    GcsAclError,
    RequestError,
    TransportError,
    UniformAccessError,
)
from infra.gcs_acl.limit import AdaptiveLimit
from infra.gcs_acl.settings import RunSettings, check_settings
from infra.gcs_acl.spec import AclSpec

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_SCOPES = ["https://www.googleapis.com/auth/devstorage.full_control"]
_T = TypeVar("_T")


class StoppedError(Exception):
    """The run is stopping: this request was not sent (or not retried)."""


class Listed(NamedTuple):
    """One object as the listing gave it."""

    name: str
    metageneration: int
    acl: list[dict[str, Any]] | None
    """The ACL from the listing, or None when the listing omitted it."""


def emulator_url() -> str | None:
    """``STORAGE_EMULATOR_HOST`` as a URL, or None for real GCS. Tools differ on whether the
    variable carries a scheme (host:port is common): both are accepted."""
    emulator = os.environ.get(EMULATOR_ENV) or None
    if emulator and "://" not in emulator:
        return f"http://{emulator}"
    return emulator


def _credentials(project: str | None) -> tuple[Credentials, str | None]:
    """Application default credentials and the project to use, or CredentialsError."""
    try:
        creds, default_project = google.auth.default(scopes=_SCOPES)
    except google.auth.exceptions.DefaultCredentialsError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CredentialsError(
            "no application default credentials: run `gcloud auth application-default "
            "login` or set GOOGLE_APPLICATION_CREDENTIALS (or STORAGE_EMULATOR_HOST for "
            f"an emulator); {first}"
        ) from err
    return creds, project or default_project or None


class Gcs:
    """Clients (one per thread: requests sessions are not shared), the limit on requests in
    flight, and the retry policy around every request."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.emulator = emulator_url()
        self.credentials: Credentials
        self.project: str | None
        if self.emulator:
            self.credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            self.project = settings.project or "emulator"
        else:
            self.credentials, self.project = _credentials(settings.project)
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
        :class:`StoppedError` instead of sending or retrying once :attr:`stop` is set.
        """
        s = self.settings
        spent = 0.0
        delay = s.retry_initial_s
        while True:
            token = self.limit.acquire(self.stop)
            if token is None or self.stop.is_set():
                if token is not None:
                    self.limit.release(token, pushed_back=False)
                raise StoppedError
            started = time.monotonic()
            pushed_back = False
            try:
                return request()
            except Exception as err:
                pushed_back = is_transient(err)
                spent += time.monotonic() - started
                if not pushed_back or spent + delay / 2 > s.retry_deadline_s:
                    raise
            finally:
                self.limit.release(token, pushed_back=pushed_back)
            pause = random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not cryptography
            if self.stop.wait(pause):
                raise StoppedError
            spent += pause
            delay = min(delay * 2, s.retry_max_s)

    def reload(self, blob: storage.Blob) -> list[dict[str, Any]]:
        """Read ``blob``'s ACL and metageneration afresh (one request); returns the ACL."""
        self.call(
            functools.partial(blob.reload, projection="full", retry=None, timeout=self.timeout)
        )
        return list(blob._properties.get("acl") or [])

    def close(self) -> None:
        """Close every client's HTTP session."""
        with self._lock:
            for c in self._clients:
                c.close()
            self._clients.clear()


def translate(err: Exception, spec: AclSpec, gcs: Gcs, doing: str) -> GcsAclError:
    """One-line error for a failure talking to GCS while ``doing`` (``listing ...``)."""
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
    if is_transient(err):
        return TransportError(
            f"{gcs.endpoint} unreachable or failing while {doing} after retrying for "
            f"{gcs.settings.retry_deadline_s:g}s: {_short(err)}"
        )
    if isinstance(err, api_exceptions.GoogleAPICallError):
        return RequestError(f"GCS rejected {doing} on gs://{spec.bucket}: {_api_message(err)}")
    return RequestError(f"unexpected failure while {doing} on gs://{spec.bucket}: {_short(err)}")


def is_transient(err: BaseException | None) -> bool:
    """429, 408, 5xx, refused/reset connections and timeouts (google-cloud-storage's list)."""
    predicate: Callable[[BaseException], bool] = DEFAULT_RETRY._predicate
    return err is not None and predicate(err)


def _api_message(err: api_exceptions.GoogleAPICallError) -> str:
    return _short(err.message or str(err))


def _short(err: object) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else type(err).__name__
    return first if len(first) <= 200 else first[:197] + "..."


def uniform_access(bucket: storage.Bucket) -> bool:
    """Whether uniform bucket-level access is on (object ACLs disabled)."""
    return bool(bucket.iam_configuration.uniform_bucket_level_access_enabled)


def refuse_uniform_access(spec: AclSpec) -> UniformAccessError:
    """The error for a grant, revoke or scan of object ACLs that uniform access disabled."""
    return UniformAccessError(
        f"gs://{spec.bucket} has uniform bucket-level access on: object ACLs are disabled, "
        f"nothing changed. Use the IAM mode instead: grant {IAM_ROLE_FOR[spec.role]} to "
        f"{iam_member(spec.entity)} on the bucket (registry publicRead with "
        "uniformBucketLevelAccess)"
    )


@contextlib.contextmanager
def session(spec: AclSpec, settings: RunSettings | None) -> Iterator[tuple[Gcs, storage.Bucket]]:
    """A client and the bucket's metadata, after the checks every run needs first: settings
    valid, bucket readable. The clients are closed afterwards."""
    settings = settings or RunSettings()
    check_settings(settings)
    gcs = Gcs(settings)
    try:
        doing = f"reading bucket gs://{spec.bucket}"
        try:
            bucket = gcs.call(
                lambda: gcs.client().get_bucket(spec.bucket, retry=None, timeout=gcs.timeout)
            )
        except Exception as err:
            raise translate(err, spec, gcs, doing) from err
        yield gcs, bucket
    finally:
        gcs.close()


def pages(gcs: Gcs, spec: AclSpec, on_page: Callable[[], None]) -> Iterator[list[Listed]]:
    """The objects under the prefix, page by page, with their ACLs where the listing gives them
    (``projection=full``); each page is one request through :meth:`Gcs.call` (so it is retried
    and counted like any other), and ``on_page`` is called after each."""
    token: str | None = None
    while True:

        def fetch(token: str | None = token) -> tuple[list[Listed], str | None]:
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
            listed = [
                Listed(b.name, int(b.metageneration or 0), b._properties.get("acl")) for b in page
            ]
            return listed, blobs.next_page_token

        items, token = gcs.call(fetch)
        on_page()
        yield items
        if not token:
            return
