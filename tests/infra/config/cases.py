"""Shared cases for the config tests: a small valid config (the S4 shape) and a way to break one
value of it, plus the check every refusal must pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.config import parse
from infra.settings import ConfigError, GkeTarget, Settings, printable, show

SECRETS = {"imageview": {"id": "asa", "key": "s3cret-key"}}


class _Delete:
    """A case's value meaning "remove the key"; a stable repr keeps test ids the same in every
    process (pytest-xdist workers must collect the same ids)."""

    def __repr__(self) -> str:
        return "<deleted>"


DELETE = _Delete()


def base() -> dict[str, Any]:
    """A small valid gke config with one app (the S4 shape), as the engine passes it (Pulumi.yaml
    defaults merged in: ``platform``)."""
    return {
        "platform": "gke",
        "project": "hello-docker",
        "region": "asia-northeast1",
        "cluster": {"zone": "asia-northeast1-a", "machineType": "n1-standard-1", "nodeCount": 3},
        "apps": {
            "imageview": {
                "type": "webserver",
                "configMaps": {"projectid": {"project.id": "hello-docker"}},
                "secret": {"name": "apikey", "keys": ["id", "key"]},
                "env": {
                    "PROJECT_ID": {"configMapKeyRef": {"name": "projectid", "key": "project.id"}},
                    "SECRET_KEY": {"secretKeyRef": {"name": "apikey", "key": "key"}},
                },
                "colors": {
                    "blue": {"source": "apps/imageview/blue"},
                    "green": {"source": "apps/imageview/green"},
                },
                "service": {"name": "webserver", "type": "LoadBalancer"},
            }
        },
    }


def with_value(path: str, value: object, raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """``base()`` (or ``raw``) with the dotted ``path`` set to ``value`` (or removed: DELETE)."""
    raw = copy.deepcopy(raw if raw is not None else base())
    node: Any = raw
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    if value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return raw


def canary_base() -> dict[str, Any]:
    """``base()`` with its app a canary: reached through the Gateway, so its Service is
    ClusterIP (the default)."""
    raw = with_value("apps.imageview.strategy", "canary")
    return with_value("apps.imageview.service.type", DELETE, raw)


def parsed(raw: dict[str, Any] | None = None, secrets: object = SECRETS) -> Settings:
    """Settings of ``raw`` (default ``base()``)."""
    return parse(raw if raw is not None else base(), "test", secrets)


def gke_target(raw: dict[str, Any] | None = None) -> GkeTarget:
    """The GKE target of ``raw`` (default ``base()``, a gke config)."""
    target = parsed(raw).target
    assert isinstance(target, GkeTarget), target
    return target


def refused(raw: dict[str, Any], key: str, words: str, secrets: object = SECRETS) -> str:
    """Asserts ``raw`` is refused with one line that names ``key`` and contains ``words``."""
    with pytest.raises(ConfigError) as caught:
        parse(raw, "test", secrets)
    message = str(caught.value)
    assert caught.value.key == key, message
    assert message.startswith(f"config {printable(key)}: "), message
    assert words in message, message
    assert "\n" not in message, message
    return message


#: (path set, value, key the error must name, words it must contain).
BadCase = tuple[str, object, str, str]


def each_refused(table: list[BadCase]) -> Callable[..., None]:
    """The test of a section's table of bad values: each is refused with one bounded line that
    names the key and says what is allowed. Assign it to a ``test_*`` name in the section."""

    @pytest.mark.parametrize(
        ("path", "value", "key", "words"), table, ids=[f"{p}={show(v)}"[:60] for p, v, *_ in table]
    )
    def test(path: str, value: object, key: str, words: str) -> None:
        message = refused(with_value(path, value), key, words)
        assert len(message) < 400, "bounded, even for a 5,000-digit number"

    return test
