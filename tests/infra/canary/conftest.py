"""Fixtures of the canary library's tests: the stubs of :mod:`tests.infra.canary.stubs`, each
closed after its test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from tests.infra.canary.stubs import (
    App,
    ColorServer,
    GatewayStandIn,
    KubeApiStub,
    MonitoringStub,
    start_app,
    stop_app,
)
from tests.prerequisites import unavailable


@pytest.fixture
def kube_api() -> Iterator[KubeApiStub]:
    stub = KubeApiStub()
    yield stub
    stub.close()


@pytest.fixture
def monitoring() -> Iterator[MonitoringStub]:
    stub = MonitoringStub()
    yield stub
    stub.close()


@pytest.fixture
def color_server() -> Iterator[Callable[[str | None], ColorServer]]:
    started: list[ColorServer] = []

    def start(color: str | None) -> ColorServer:
        started.append(ColorServer(color))
        return started[-1]

    yield start
    for s in started:
        s.close()


@pytest.fixture
def gateway() -> Iterator[Callable[[dict[str, str], dict[str, int]], GatewayStandIn]]:
    started: list[GatewayStandIn] = []

    def start(upstreams: dict[str, str], weights: dict[str, int]) -> GatewayStandIn:
        started.append(GatewayStandIn(upstreams, weights))
        return started[-1]

    yield start
    for g in started:
        g.close()


@pytest.fixture
def apps() -> Iterator[Callable[[str, str], App]]:
    """``apps(name, color)`` starts a real app of apps/ with ``COLOR=color``."""
    started: list[App] = []

    def start(name: str, color: str) -> App:
        if name == "kubia" and not shutil.which("node"):
            unavailable("node is not installed: the kubia app needs it")
        started.append(start_app(name, color))
        return started[-1]

    yield start
    for app in started:
        stop_app(app)
