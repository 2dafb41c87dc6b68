"""Reading a decoded config object: a node that knows its dotted key and which keys were used,
and the converters every section uses. Every string check is a full match (a trailing newline is
never part of a valid name) and no name, id or path may hold a control character.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from infra.naming import is_dns_label
from infra.settings import ConfigError

T = TypeVar("T")
Converter = Callable[[str, object], T]

#: C0 controls, DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Data (ConfigMap values, literal env values) may be multi-line text: tabs and newlines only.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Longest whole number accepted as text (int64 has 19 digits); longer text is not parsed at all.
_MAX_DIGITS = 18


class Node:
    """A config object being read: its dotted path and which keys were consumed."""

    def __init__(self, path: str, value: object) -> None:
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise ConfigError(path, value, "expected an object (set keys with --path)")
        self.path = path
        self.data: Mapping[str, object] = value
        self._used: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted key of child ``name``."""
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: str) -> object:
        """The child's value as given (marks it used)."""
        self._used.add(name)
        return self.data.get(name)

    def child(self, name: str) -> Node:
        """The child object ``name`` (an empty object when unset)."""
        return Node(self.key(name), self.raw(name))

    def get(self, name: str, conv: Converter[T], default: T) -> T:
        """The child converted, or ``default`` when unset."""
        value = self.raw(name)
        return default if value is None else conv(self.key(name), value)

    def require(self, name: str, conv: Converter[T], what: str) -> T:
        """The child converted; unset is an error that says what to set."""
        value = self.raw(name)
        if value is None or value == "":
            raise ConfigError(self.key(name), None, f"it is required: {what}")
        return conv(self.key(name), value)

    def items(self) -> Iterator[tuple[str, object]]:
        """Every child, in order (all marked used)."""
        for name in self.data:
            self._used.add(name)
            yield name, self.data[name]

    def only(self, *names: str) -> Node:
        """Fails now, before reading anything, when a key outside ``names`` is set."""
        for name in self.data:
            if name not in names:
                raise ConfigError(
                    self.key(name), self.data[name], f"unknown key; allowed: {', '.join(names)}"
                )
        return self

    def done(self, allowed: str | None = None) -> None:
        """Fails when a child was set that nothing read (a typo such as ``activecolor``)."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            keys = allowed or ", ".join(sorted(self._used))
            raise ConfigError(
                self.key(unknown[0]), self.data[unknown[0]], f"unknown key; allowed: {keys}"
            )


def string(key: str, value: object) -> str:
    """A one-line string (numbers given by ``pulumi config set`` count as their text)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(key, value, "expected a string")
    text = str(value)
    if _CONTROL.search(text):
        raise ConfigError(key, value, "must not contain control characters (newline, tab, ...)")
    return text


def text(key: str, value: object) -> str:
    """A data string that may span lines (tabs and newlines allowed, other controls not)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(key, value, "expected a string")
    result = str(value)
    if _CONTROL_IN_TEXT.search(result):
        raise ConfigError(key, value, "must not contain control characters other than tab, newline")
    return result


def int_in(lo: int, hi: int) -> Converter[int]:
    """A whole number from ``lo`` to ``hi`` (also as text: ``pulumi config set`` may store
    ``"3"``)."""

    def conv(key: str, value: object) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(rf"-?[0-9]{{1,{_MAX_DIGITS}}}", value)
        ):
            number = int(value)
        if number is None or not lo <= number <= hi:
            raise ConfigError(key, value, f"expected a whole number from {lo} to {hi}")
        return number

    return conv


def number_in(lo: float, hi: float) -> Converter[float]:
    """A finite number from ``lo`` to ``hi`` (also as decimal text: ``0.01``, ``1.5``, ``2``);
    no exponent, so a 5,000-digit text is never parsed."""

    def conv(key: str, value: object) -> float:
        number: float | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            # A huge integer is out of range, not an OverflowError.
            number = float(value) if lo <= value <= hi else None
        elif isinstance(value, float):
            number = value if math.isfinite(value) else None
        elif isinstance(value, str) and re.fullmatch(
            rf"-?[0-9]{{1,{_MAX_DIGITS}}}(\.[0-9]{{1,{_MAX_DIGITS}}})?", value
        ):
            number = float(value)
        if number is None or not lo <= number <= hi:
            raise ConfigError(key, value, f"expected a number from {lo:g} to {hi:g}")
        return number

    return conv


def boolean(key: str, value: object) -> bool:
    """``true``/``false`` (also as text)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(key, value, "expected true or false")


def choice(*allowed: str) -> Converter[str]:
    """One of ``allowed``, exactly."""

    def conv(key: str, value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ConfigError(key, value, f"allowed: {', '.join(allowed)}")
        return value

    return conv


def match(pattern: re.Pattern[str], what: str) -> Converter[str]:
    """A string that ``pattern`` matches in full."""

    def conv(key: str, value: object) -> str:
        result = string(key, value)
        if not pattern.fullmatch(result):
            raise ConfigError(key, value, what)
        return result

    return conv


def dns_label(max_len: int) -> Converter[str]:
    """A lower-case DNS-1035 label of at most ``max_len`` characters."""

    def conv(key: str, value: object) -> str:
        result = string(key, value)
        if not is_dns_label(result, max_len):
            raise ConfigError(
                key,
                value,
                "use lower-case letters, digits and '-', start with a letter, end with a letter "
                f"or digit, at most {max_len} characters",
            )
        return result

    return conv


def url_path(key: str, value: object) -> str:
    """An absolute HTTP path: RFC 3986 path characters only (no spaces, no query)."""
    result = string(key, value)
    if not re.fullmatch(r"/[A-Za-z0-9/\-._~%!$&'()*+,;=:@]*", result):
        raise ConfigError(key, value, "expected an absolute URL path such as /readyz")
    return result
