"""The errors of the canary library."""


class CanaryError(Exception):
    """A canary check cannot run or did not pass; the message is one line that says what was seen
    and what is allowed or what to do."""


class RouteNotReady(CanaryError):
    """The HTTPRoute did not become current (every parent ``Accepted`` and ``ResolvedRefs`` for
    its current generation, with the expected weights) before the deadline; the message names the
    parent, the condition and the generations."""


class SplitNotInEffect(CanaryError):
    """Requests through the Gateway did not split as weighted before the deadline."""
