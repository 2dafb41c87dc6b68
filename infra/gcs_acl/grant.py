"""Grant or revoke one ACL entry on every object of a bucket under a prefix: S1's
``gsutil acl ch -r -u AllUsers:R gs://BUCKET`` and its undoing.

Objects are listed page by page with their ACLs, and only the objects that lack (or, for a
revoke, hold) the entry are changed (:mod:`infra.gcs_acl.change`), by a pool of worker threads
fed from a bounded queue (memory stays flat for any number of objects).

Interruption (Ctrl-C): the first one stops the listing and every new attempt; requests already
sent are let finish and counted. A second one stops waiting for them. Either way the error
raised is :class:`~infra.gcs_acl.errors.InterruptedRunError` with the partial summary, whose
``left undone`` counts what was not done. Worker threads are daemons, so a second Ctrl-C never
waits on them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from collections.abc import Callable

from infra.gcs_acl.acl import needs_change
from infra.gcs_acl.change import Outcome, change, tally
from infra.gcs_acl.client import (
    Gcs,
    Listed,
    StoppedError,
    pages,
    refuse_uniform_access,
    session,
    translate,
    uniform_access,
)
from infra.gcs_acl.errors import GcsAclError, InterruptedRunError
from infra.gcs_acl.results import ProgressFn, Summary
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import AclSpec, Action


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
        with session(spec, settings) as (gcs, bucket):
            if uniform_access(bucket):
                raise refuse_uniform_access(spec)
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
        gcs: Gcs,
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
        self.queue: queue.Queue[Listed | None] = queue.Queue(maxsize=2 * gcs.settings.workers)

    def run(self) -> Summary:
        """Do the pass; raises the first fatal error (or the interruption) with the partial
        summary attached."""
        threads = self._start_workers()
        error = self._list()
        summary, error = self._drain(threads, error)
        return self._close(summary, error)

    # -------------------------------------------------------------------------- the main thread

    def _start_workers(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._work, name=f"gcs-acl-{i}", daemon=True)
            for i in range(self.gcs.settings.workers)
        ]
        for t in threads:
            t.start()
        return threads

    def _interrupted(self) -> InterruptedRunError:
        return InterruptedRunError(f"interrupted during {self.action} on {self.spec.where}")

    def _list(self) -> GcsAclError | None:
        """List and queue what needs a change. Returns what stopped the listing early, or None
        (all listed, or a worker's fatal error stopped it: that one is in ``fatal``)."""
        try:
            self._feed()
        except StoppedError:
            return None
        except GcsAclError as err:
            return err
        except KeyboardInterrupt:
            return self._interrupted()
        except Exception as err:
            return translate(err, self.spec, self.gcs, f"listing {self.spec.where}")
        return None

    def _feed(self) -> None:
        for page in pages(self.gcs, self.spec, self._count_page):
            for item in page:
                if self.skip is None or not self.skip(item.name):
                    self._consider(item)
            self._report()
        self.summary.listed_all = True

    def _consider(self, item: Listed) -> None:
        """Count a listed object, and queue it if its ACL (when listed) needs a change."""
        with self.lock:
            self.summary.scanned += 1
            if item.acl is not None and not needs_change(self.action, item.acl, self.spec):
                self.summary.already += 1
                return
        self._put(item)
        self._report(page_end=False)

    def _put(self, item: Listed) -> None:
        while True:
            if self.gcs.stop.is_set():
                with self.lock:
                    self.summary.undone += 1
                raise StoppedError
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                self._report(page_end=False)

    def _drain(
        self, threads: list[threading.Thread], error: GcsAclError | None
    ) -> tuple[Summary, GcsAclError | None]:
        """Let the workers finish (after an error or a Ctrl-C nothing new is sent, and what is
        in flight finishes). A first Ctrl-C here stops the run as one during the listing does; a
        second one stops waiting: the counts are frozen as they stand."""
        interrupted = isinstance(error, InterruptedRunError)
        while True:
            if error is not None:
                self.gcs.stop.set()
            try:
                self._finish(threads, announce=interrupted)
                return self.summary, error
            except KeyboardInterrupt:
                if not interrupted:
                    interrupted, error = True, self._interrupted()
                    continue
                summary, waiting = self._abandon(threads)
                return summary, InterruptedRunError(
                    f"interrupted again during {self.action} on {self.spec.where}: stopped "
                    f"waiting for {waiting} requests in flight (a re-run sees whether they "
                    "landed)"
                )

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

    def _close(self, summary: Summary, error: GcsAclError | None) -> Summary:
        """The final counts; raises the error that stopped the run (or a worker's), with them."""
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

    # -------------------------------------------------------------------------- the workers

    def _work(self) -> None:
        """Take objects from the queue until an end marker; change and count each."""
        while (item := self.queue.get()) is not None:
            with self.lock:
                self.working += 1
            outcome = self._attempt(item)
            with self.lock:
                self.working -= 1
                if not self.abandoned:
                    tally(self.summary, item.name, outcome)

    def _attempt(self, item: Listed) -> Outcome:
        """One object's change. A fatal error (a bug too: never a silently dead worker) is kept
        for the main thread, stops the run and leaves the object undone."""
        if self.gcs.stop.is_set():
            return Outcome.UNDONE
        try:
            return change(self.gcs, self.action, self.spec, item)
        except StoppedError:
            return Outcome.UNDONE
        except Exception as err:
            fatal = translate(err, self.spec, self.gcs, f"patching {item.name!r}")
            with self.lock:
                self.fatal.append(fatal)
            self.gcs.stop.set()
            return Outcome.UNDONE
