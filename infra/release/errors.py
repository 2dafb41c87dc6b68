"""The errors of the release tool."""


class ReleaseError(Exception):
    """A step cannot be taken; the message is one line, says what to do instead, and nothing was
    written."""


class CheckFailed(ReleaseError):
    """A step was applied, and the check after it found a problem or could not run; the message
    is one line: what was done, what was seen, and what to do next. The tool exits 1."""
