"""Kubernetes' own validation rules for the fields a stack sets, ported so that what the API server
would reject is rejected here, before anything is registered.

Sources (kubernetes/kubernetes; Go's ``^...$`` matches the whole string, hence ``fullmatch``):

* ``staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`` at 008b365
  (``IsConfigMapKey``, ``hasChDirPrefix``, ``IsValidPortName``; ``IsDNS1035Label`` is in
  infra/naming.py);
* ``staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go`` at 009f497: the Quantity
  grammar, and its 2^63-1 cap (a larger value is refused here, not capped);
* ``pkg/apis/core/validation/validation.go`` ``ValidateResourceRequirements`` (a request "must be
  less than or equal to <resource> limit"; quantities must be non-negative);
* ``pkg/apis/core/validation/validation.go`` at 000f260 (``ValidateSecret``, ``ValidateConfigMap``)
  and ``pkg/apis/core/types.go`` at 000e2a5 (``MaxSecretSize``): the size of a Secret's and a
  ConfigMap's data.

docs/upstream.md (K1 to K7) lists each rule and the test that fails on a broken example.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation, localcontext

#: IsConfigMapKey: ``[-._a-zA-Z0-9]+``, at most 253, not ``.``, ``..`` or ``..<anything>``.
_CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
CONFIG_MAP_KEY_MAX = 253
#: IsValidPortName (IANA_SVC_NAME).
_PORT_NAME = re.compile(r"[-a-z0-9]+")
PORT_NAME_MAX = 15
#: Environment variable names: C identifiers. Kubernetes also accepts ``-`` and ``.``
#: (``IsEnvVarName``) but no shell can read such a variable, so they are refused here.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: ``MaxSecretSize``: the most bytes a Secret's ``data`` (``stringData`` is merged into it first)
#: or a ConfigMap's ``data`` and ``binaryData`` may hold. Values count, keys do not, each as Go's
#: ``len``: the bytes of a string's UTF-8 encoding.
MAX_DATA_SIZE = 1 * 1024 * 1024

#: The quantity grammar: <signedNumber><suffix>, suffix binarySI | decimalSI | decimalExponent.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
#: quantity.go: the largest magnitude a quantity may represent.
QUANTITY_MAX = Decimal(2**63 - 1)


def config_map_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid ConfigMap/Secret key, or ``None``."""
    if len(key) > CONFIG_MAP_KEY_MAX:
        return f"at most {CONFIG_MAP_KEY_MAX} characters"
    if not _CONFIG_MAP_KEY.fullmatch(key):
        return "letters, digits, '-', '_' and '.' only"
    if key in (".", "..") or key.startswith(".."):
        return "must not be '.', '..' or start with '..'"
    return None


def data_size(values: Iterable[str]) -> int:
    """What a Secret's or a ConfigMap's data counts against :data:`MAX_DATA_SIZE`: the bytes of
    its values (keys are not counted)."""
    return sum(len(value.encode("utf-8", "surrogatepass")) for value in values)


def data_size_problem(size: int) -> str | None:
    """Why data of ``size`` bytes does not fit in one Secret or ConfigMap, or ``None``."""
    if size <= MAX_DATA_SIZE:
        return None
    return (
        f"{size} bytes of data, over Kubernetes' limit of {MAX_DATA_SIZE} bytes (1 MiB) for one "
        "object (keys not counted)"
    )


def port_name_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA_SVC_NAME, or ``None``."""
    if len(name) > PORT_NAME_MAX:
        return f"at most {PORT_NAME_MAX} characters"
    if not _PORT_NAME.fullmatch(name):
        return "lower-case letters, digits and '-' only"
    if not re.search(r"[a-z]", name):
        return "must contain at least one letter"
    if "--" in name:
        return "must not contain '--'"
    if name.startswith("-") or name.endswith("-"):
        return "must not begin or end with '-'"
    return None


def is_env_name(name: str) -> bool:
    """True for an environment variable name a shell can read."""
    return _ENV_NAME.fullmatch(name) is not None


class QuantityError(ValueError):
    """Not a quantity, or not one that fits the resource."""


def quantity(text: str, resource: str) -> Decimal:
    """The value of a Kubernetes quantity for ``resource`` (``cpu`` in cores, ``memory`` in
    bytes), checked against what the resource takes:

    * the grammar of quantity.go, non-negative (no sign: a ``+`` is legal but pointless);
    * cpu: plain or decimal-SI (``500m``, ``0.5``, ``2``), not byte units such as ``1Gi``, and no
      finer than 1m (Kubernetes rounds finer values up);
    * memory: a whole number of bytes (``64Mi``, ``128M``, ``1e9``); ``m`` means milli-bytes
      and anything fractional is not a byte count.
    """
    m = _QUANTITY.fullmatch(text)
    if m is None:
        raise QuantityError("not a Kubernetes quantity")
    number_text, suffix = m.group("number"), m.group("suffix") or ""
    if number_text.startswith(("-", "+")):
        raise QuantityError("must be a plain non-negative number (no sign)")
    value = _scaled(number_text, suffix)
    if value > QUANTITY_MAX:
        raise QuantityError("larger than Kubernetes quantities go (2^63-1)")
    _fits(resource, value, suffix)
    return value


def _scaled(number_text: str, suffix: str) -> Decimal:
    """The number times what its suffix means (a binary or decimal SI unit, or an exponent)."""
    if len(suffix[1:].lstrip("+-").lstrip("0")) > 3:  # not parsed: it may have 5,000 digits
        raise QuantityError("exponent out of range")
    with localcontext() as exact:
        # Enough digits for any value up to QUANTITY_MAX with 3 decimals; longer numbers are
        # rounded here and refused by the caller as too large.
        exact.prec = 40
        try:
            number = Decimal(number_text)
        except InvalidOperation:
            raise QuantityError("not a Kubernetes quantity") from None
        if suffix in _BINARY:
            return number * (Decimal(1024) ** _BINARY[suffix])
        if suffix in _DECIMAL:
            return number.scaleb(_DECIMAL[suffix])
        exponent = int(suffix[1:])
        if abs(exponent) > 30:
            raise QuantityError("exponent out of range")
        return number.scaleb(exponent)


def _fits(resource: str, value: Decimal, suffix: str) -> None:
    """Refuses a value the resource does not take: bytes or sub-millicores for CPU, a fraction
    of a byte for memory."""
    if resource == "cpu":
        if suffix in _BINARY:
            raise QuantityError("CPU is counted in cores (2, 0.5) or millicores (500m), not bytes")
        if value != value.quantize(Decimal("0.001")) and value != 0:
            raise QuantityError("CPU has a precision of 1m (0.001 cores)")
    elif resource == "memory" and (suffix == "m" or value != value.to_integral_value()):
        raise QuantityError(
            "memory is a whole number of bytes, e.g. 64Mi or 128M ('m' means milli-bytes)"
        )
