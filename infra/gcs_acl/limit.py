"""How many requests may be in flight: an adaptive limit, run the way TCP runs its congestion
window (additive increase, multiplicative decrease).

Every request of a run (the bucket read, list pages, reads, patches) takes a slot from one
:class:`AdaptiveLimit`, which keeps the number in flight between 1 and ``workers``, as Cloud
Storage's request-rate and retry guidance asks of clients (docs/upstream.md G4): it starts with
one request and adds one per answered request until the first pushback, then one per round of
answered requests; any refusal, timeout, 429 or 5xx halves it (once per round). So a slow or
overloaded backend makes a run slower, not incomplete (the retries are
:mod:`infra.gcs_acl.client`'s).
"""

from __future__ import annotations

import threading


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
