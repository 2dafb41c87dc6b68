"""infra/config/kubernetes.py against Kubernetes' own rules and test tables.

The good/bad tables of IsConfigMapKey and IsValidPortName are Kubernetes' own, from
``staging/src/k8s.io/apimachinery/pkg/util/validation/validation_test.go`` (kubernetes/kubernetes,
the revision beside validation.go at 008b365); the quantity cases follow the grammar quoted from
``staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go`` at 009f497.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.config import kubernetes

# TestIsConfigMapKey
CONFIG_MAP_KEYS_GOOD = [
    "a",
    "good",
    "good-good",
    "still.good",
    "this.is.also.good",
    ".so.is.this",
    "THIS_IS_GOOD",
    "so_is_this_17",
]
CONFIG_MAP_KEYS_BAD = [".", "..", "..bad", "b*d", "bad!&bad"]
# TestIsValidPortName
PORT_NAMES_GOOD = ["telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2-c", "1-a-2-b-3"]
PORT_NAMES_BAD = [
    "longerthan15characters",
    "",
    "a" * 16,
    "12345",
    "1-2-3-4",
    "-begin",
    "end-",
    "two--hyphens",
    "whois++",
]


@pytest.mark.parametrize("key", CONFIG_MAP_KEYS_GOOD)
def test_config_map_keys_kubernetes_accepts(key: str) -> None:
    assert kubernetes.config_map_key_problem(key) is None


@pytest.mark.parametrize("key", [*CONFIG_MAP_KEYS_BAD, "k" * 254, "key\n", "a b", ""])
def test_config_map_keys_kubernetes_refuses(key: str) -> None:
    assert kubernetes.config_map_key_problem(key)


@pytest.mark.parametrize("name", PORT_NAMES_GOOD)
def test_port_names_kubernetes_accepts(name: str) -> None:
    assert kubernetes.port_name_problem(name) is None


@pytest.mark.parametrize("name", [*PORT_NAMES_BAD, "http\n", "HTTP"])
def test_port_names_kubernetes_refuses(name: str) -> None:
    assert kubernetes.port_name_problem(name)


@pytest.mark.parametrize(
    ("text", "resource", "value"),
    [
        ("0", "cpu", Decimal(0)),
        ("100m", "cpu", Decimal("0.1")),
        ("0.5", "cpu", Decimal("0.5")),
        (".5", "cpu", Decimal("0.5")),
        ("1.", "cpu", Decimal(1)),
        ("2", "cpu", Decimal(2)),
        ("1e3", "cpu", Decimal(1000)),
        ("64Mi", "memory", Decimal(64 * 2**20)),
        ("1.5Gi", "memory", Decimal(3 * 2**29)),
        ("128M", "memory", Decimal(128 * 10**6)),
        ("1E9", "memory", Decimal(10**9)),
        ("1k", "memory", Decimal(1000)),
        ("1e-0003", "cpu", Decimal("0.001")),
        ("9223372036854775807", "memory", Decimal(2**63 - 1)),
    ],
)
def test_quantities_parse_to_their_value(text: str, resource: str, value: Decimal) -> None:
    assert kubernetes.quantity(text, resource) == value


@pytest.mark.parametrize(
    ("text", "resource"),
    [
        ("", "cpu"),
        (".", "cpu"),
        ("1.1.M", "memory"),
        ("1Mm", "memory"),
        ("1e", "cpu"),
        ("1 Gi", "memory"),
        ("1gi", "memory"),
        ("1Gi\n", "memory"),
        ("-1", "cpu"),
        ("1Gi", "cpu"),
        ("0.0001", "cpu"),
        ("128m", "memory"),
        ("1.5", "memory"),
        ("1e999", "memory"),
        ("1e" + "9" * 5000, "cpu"),  # int() of it would raise (4,300 digits)
        ("1" * 40, "cpu"),  # past the default decimal precision
        ("9223372036854775808", "memory"),  # 2^63: Kubernetes would cap it
        ("8Ei", "memory"),
    ],
)
def test_quantities_that_are_not_or_do_not_fit(text: str, resource: str) -> None:
    with pytest.raises(kubernetes.QuantityError):
        kubernetes.quantity(text, resource)


def test_env_names() -> None:
    assert kubernetes.is_env_name("SECRET_ID") and not kubernetes.is_env_name("SECRET_ID\n")
    assert not kubernetes.is_env_name("1X") and not kubernetes.is_env_name("my-var")


def test_data_counts_the_utf8_bytes_of_values_not_keys() -> None:
    """ValidateSecret and ValidateConfigMap sum Go's len() of each value: bytes, not characters,
    and no key."""
    assert kubernetes.MAX_DATA_SIZE == 1024 * 1024
    assert kubernetes.data_size(["ab", "é", "€"]) == 2 + 2 + 3
    assert kubernetes.data_size([]) == 0
    assert kubernetes.data_size_problem(kubernetes.MAX_DATA_SIZE) is None
    assert kubernetes.data_size_problem(kubernetes.MAX_DATA_SIZE + 1) == (
        "1048577 bytes of data, over Kubernetes' limit of 1048576 bytes (1 MiB) for one object "
        "(keys not counted)"
    )
