"""Checking that requests through the Gateway really split as weighted: answers are counted by
the color that sent them (the ``X-Color`` response header the apps set from their ``COLOR``
environment variable), and the weight is in effect when the candidate's share of the colored
answers is, at the stated confidence, inside the stated tolerance of the weight.

The rule, per round of answers (``stats`` says why Wilson's interval):

* the Wilson interval of the candidate's share lies wholly inside ``weight ± tolerance``:
  **in effect**, the check passes;
* it lies wholly outside: the load balancer still splits otherwise (GKE takes a minute or two to
  program a change, and keeps the old split meanwhile), so this round's answers describe the old
  state: they are dropped and a new round starts;
* neither: more answers. A round that stays undecided for four times the answers a check at this
  weight needs (:func:`infra.canary.stats.answers_needed`) is dropped too: its answers straddle a
  change.

Until ``deadline_s`` has passed; then :class:`~infra.canary.errors.SplitNotInEffect` with what the
last round saw. An answer without the header, or naming neither color, or no answer at all, is
counted and reported, never taken for a color; a round in which most answers carry no color stops
the check at once (the apps do not send the header, or the load balancer answers by itself).
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.canary import http as canary_http
from infra.canary import stats
from infra.canary.errors import CanaryError, SplitNotInEffect

#: The response header that names the color that answered.
COLOR_HEADER = "X-Color"
#: The colored answers a round needs before its interval is judged (below, the interval is wide
#: enough to say nothing, and a judgement on it would only restart rounds for noise).
MIN_ANSWERS = 10
#: A round with at least this many answers, most of them without a color, stops the check.
UNCOLORED_STOP = 20
#: The most requests one check may make, whatever its deadline.
MAX_REQUESTS = 50_000


@dataclass(frozen=True)
class SplitCheck:
    """What a split check expects and how long it may take."""

    url: str
    """The Gateway's address and the path to request (``http://203.0.113.7/``)."""
    candidate: str
    """The candidate color (``blue`` or ``green``)."""
    live: str
    """The live color."""
    weight: int
    """The candidate's weight in percent (the live color has the rest)."""
    tolerance: float = 0.05
    """How far the candidate's share may be from ``weight``, as a fraction (0.05: ±5 points)."""
    confidence: float = 0.99
    """The confidence of the interval (0.99: a check passes a wrong split at most 1 % of the
    time, for a split just outside the tolerance)."""
    deadline_s: float = 300.0
    """How long the whole check may take, in seconds."""
    timeout_s: float = 5.0
    """How long one request may take in all (connect, headers, body), in seconds."""
    host: str | None = None
    """The ``Host`` header to send (an HTTPRoute with ``hostnames``); the URL's host when
    ``None``."""

    def __post_init__(self) -> None:
        problems = []
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"url {self.url!r} is not an http(s) URL with a host")
        if not self.candidate or self.candidate == self.live or not self.live:
            problems.append(
                f"candidate {self.candidate!r} and live {self.live!r} must be two different colors"
            )
        if isinstance(self.weight, bool) or not isinstance(self.weight, int):
            problems.append(f"weight {self.weight!r}: allowed is a whole number 0-100")
        elif not 0 <= self.weight <= 100:
            problems.append(f"weight {self.weight}: allowed is a whole number 0-100")
        if not 0 < self.tolerance <= 0.5:
            problems.append(f"tolerance {self.tolerance!r}: allowed is more than 0, at most 0.5")
        elif isinstance(self.weight, int) and 0 < self.weight < 100:
            # A band that reaches 0 % or 100 % passes a split that never moved: at weight 5
            # with ±5 points, 0 answers of 96 from the candidate has a Wilson interval inside it.
            room = min(self.weight, 100 - self.weight)
            if self.tolerance * 100 >= room:
                problems.append(
                    f"tolerance ±{self.tolerance * 100:g} points at weight {self.weight}: the "
                    f"band would take in {'0' if room == self.weight else '100'} %, a split that "
                    f"never moved; allowed is less than {room} points"
                )
        if not stats.MIN_CONFIDENCE <= self.confidence <= stats.MAX_CONFIDENCE:
            problems.append(
                f"confidence {self.confidence!r}: allowed is {stats.MIN_CONFIDENCE} to "
                f"{stats.MAX_CONFIDENCE}"
            )
        if not self.deadline_s > 0:
            problems.append(f"deadline {self.deadline_s!r} s: allowed is more than 0")
        if not self.timeout_s > 0:
            problems.append(f"request timeout {self.timeout_s!r} s: allowed is more than 0")
        if problems:
            raise CanaryError(f"split check: {'; '.join(problems)}")

    @property
    def share(self) -> float:
        return self.weight / 100

    def answers_needed(self) -> int:
        """The fewest colored answers that can pass this check (a split exactly as weighted)."""
        return stats.answers_needed(self.share, self.tolerance, self.confidence)


@dataclass
class Round:
    """The answers of one round, by what they said."""

    colors: Counter[str] = field(default_factory=Counter)
    """Colored answers, by color (only the two colors of the check)."""
    uncolored: int = 0
    """Answers without the header."""
    others: Counter[str] = field(default_factory=Counter)
    """Answers whose header names neither color, by value."""
    failed: Counter[str] = field(default_factory=Counter)
    """Requests without an answer, by error."""
    statuses: Counter[int] = field(default_factory=Counter)
    """Answers by HTTP status."""

    @property
    def colored(self) -> int:
        return sum(self.colors.values())

    @property
    def requests(self) -> int:
        return self.colored + self.uncolored + sum(self.others.values()) + sum(self.failed.values())


@dataclass(frozen=True)
class SplitResult:
    """A check that passed: the last round's counts and what they show."""

    check: SplitCheck
    round: Round
    interval: tuple[float, float]
    rounds: int
    """Rounds made, the passing one included (a dropped round saw the old split)."""
    requests: int
    """Requests made in all rounds."""
    elapsed_s: float

    @property
    def observed(self) -> float:
        return self.round.colors[self.check.candidate] / self.round.colored

    def line(self) -> str:
        """One line for the release tool's progress output."""
        return f"weight {self.check.weight} % in effect: {describe(self.check, self.round)}" + (
            f"; {self.rounds} rounds, {self.requests} requests in {self.elapsed_s:.1f} s"
        )


def describe(check: SplitCheck, r: Round) -> str:
    """What a round saw, in one clause."""
    colored = r.colored
    k = r.colors[check.candidate]
    lo, hi = stats.wilson(k, colored, check.confidence)
    want = f"want {check.weight} ± {100 * check.tolerance:g}"
    parts = [
        f"{check.candidate} {k}/{colored} colored answers"
        + (
            f" = {100 * k / colored:.1f} % (interval {100 * lo:.1f}-{100 * hi:.1f} % at "
            f"{100 * check.confidence:g} %, {want})"
            if colored
            else f" ({want})"
        )
    ]
    if r.uncolored:
        parts.append(f"{r.uncolored} without {COLOR_HEADER}")
    if r.others:
        parts.append(
            "other colors " + ", ".join(f"{v!r} x{n}" for v, n in sorted(r.others.items()))
        )
    if r.failed:
        parts.append("no answer " + ", ".join(f"{n}x {why}" for why, n in sorted(r.failed.items())))
    return "; ".join(parts)


Get = Callable[[str, float], canary_http.Answer]


def _ask(check: SplitCheck, fetch: Get, timeout_s: float, into: Round) -> None:
    """One request, counted in ``into`` by what it got."""
    try:
        answer = fetch(check.url, timeout_s)
    except (OSError, ValueError, http.client.HTTPException) as err:
        into.failed[type(err).__name__] += 1
        return
    into.statuses[answer.status] += 1
    color = answer.headers.get(COLOR_HEADER.lower())
    if color is None:
        into.uncolored += 1
    elif color.strip() in (check.candidate, check.live):
        into.colors[color.strip()] += 1
    else:
        into.others[color.strip()[:40]] += 1


def check_split(
    check: SplitCheck,
    out: Callable[[str], None] | None = None,
    get: Get | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SplitResult:
    """Requests ``check.url`` until the candidate's share is in effect (see the module's rule);
    :class:`SplitNotInEffect` when ``check.deadline_s`` passes first, or when most answers carry
    no color. ``out`` gets one line per dropped round."""
    fetch = get or (lambda url, timeout: canary_http.get(url, timeout, host=check.host))
    start = clock()
    deadline = start + check.deadline_s
    round_cap = 4 * check.answers_needed()
    current = Round()
    rounds, total = 1, 0

    def fail(reason: str) -> SplitNotInEffect:
        return SplitNotInEffect(
            f"weight {check.weight} % of {check.candidate} not in effect: {reason}; "
            f"{rounds} rounds, {total} requests in {clock() - start:.1f} s"
        )

    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            raise fail(
                f"deadline of {check.deadline_s:g} s passed, last round: {describe(check, current)}"
            )
        if total >= MAX_REQUESTS:
            raise fail(f"{MAX_REQUESTS} requests made, last round: {describe(check, current)}")
        total += 1
        _ask(check, fetch, min(check.timeout_s, remaining), current)
        if current.requests >= UNCOLORED_STOP and current.colored * 2 < current.requests:
            raise fail(
                f"most requests got no colored answer ({describe(check, current)}): do the apps "
                f"send {COLOR_HEADER}, and does {check.url} reach them?"
            )
        if current.colored < MIN_ANSWERS:
            continue
        interval = stats.wilson(current.colors[check.candidate], current.colored, check.confidence)
        if stats.within(interval, check.share, check.tolerance):
            return SplitResult(check, current, interval, rounds, total, clock() - start)
        stale = stats.outside(interval, check.share, check.tolerance)
        if stale or current.colored >= round_cap:
            why = "not as weighted (yet)" if stale else f"undecided after {round_cap} answers"
            if out is not None:
                out(f"round {rounds}: {why}: {describe(check, current)}; sampling again")
            current = Round()
            rounds += 1
