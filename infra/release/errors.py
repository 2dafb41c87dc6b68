"""The one error of the release tool."""


class ReleaseError(Exception):
    """A step cannot be taken; the message is one line, says what to do instead, and nothing was
    written."""
