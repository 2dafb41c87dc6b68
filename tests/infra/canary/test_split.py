"""The split check: real requests through the Gateway stand-in on loopback, to apps that say
their color, counted until the candidate's share is inside the tolerance of its weight."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import pytest

from infra.canary import split
from infra.canary.errors import CanaryError, SplitNotInEffect
from infra.canary.http import Answer, get
from infra.canary.split import SplitCheck, check_split
from tests.infra.canary.stubs import App, ColorServer, GatewayStandIn, _Quiet, _serve

StartColor = Callable[[str | None], ColorServer]
StartGateway = Callable[[dict[str, str], dict[str, int]], GatewayStandIn]


def _pair(color_server: StartColor, gateway: StartGateway, blue: int, green: int) -> GatewayStandIn:
    b, g = color_server("blue"), color_server("green")
    return gateway({"blue": b.url, "green": g.url}, {"blue": blue, "green": green})


@pytest.mark.parametrize(
    ("weight", "blue", "tolerance"), [(25, 75, 0.05), (50, 50, 0.05), (5, 95, 0.025)]
)
def test_a_split_as_weighted_passes(
    color_server: StartColor, gateway: StartGateway, weight: int, blue: int, tolerance: float
) -> None:
    gw = _pair(color_server, gateway, blue, 100 - blue)
    check = SplitCheck(
        gw.url + "/",
        candidate="green",
        live="blue",
        weight=weight,
        tolerance=tolerance,
        deadline_s=30,
    )
    result = check_split(check)
    assert result.rounds == 1
    low, high = result.interval
    assert weight / 100 - tolerance <= low <= high <= weight / 100 + tolerance
    assert result.requests == gw.requests == result.round.requests
    assert result.line().startswith(f"weight {weight} % in effect: green ")


@pytest.mark.parametrize(("weight", "blue"), [(0, 100), (100, 0)])
def test_the_ends_of_a_plan_pass_on_few_answers(
    color_server: StartColor, gateway: StartGateway, weight: int, blue: int
) -> None:
    gw = _pair(color_server, gateway, blue, 100 - blue)
    check = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=weight)
    result = check_split(check)
    assert result.round.colored == check.answers_needed() < 150
    assert result.observed == weight / 100


def test_a_weight_that_takes_effect_late_passes_after_dropped_rounds(
    color_server: StartColor, gateway: StartGateway
) -> None:
    gw = _pair(color_server, gateway, 100, 0)
    gw.set_weights({"blue": 75, "green": 25}, after_requests=200)
    seen: list[str] = []
    check = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=25, deadline_s=30)
    result = check_split(check, out=seen.append)
    assert result.rounds >= 2
    assert result.requests > 200
    assert seen
    assert seen[0].startswith("round 1: not as weighted (yet): green 0/")
    assert seen[0].endswith("want 25 ± 5); sampling again")


def test_a_weight_never_in_effect_fails_at_the_deadline(
    color_server: StartColor, gateway: StartGateway
) -> None:
    gw = _pair(color_server, gateway, 100, 0)
    check = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=50, deadline_s=1.0)
    with pytest.raises(SplitNotInEffect) as err:
        check_split(check)
    message = str(err.value)
    assert message.startswith(
        "weight 50 % of green not in effect: deadline of 1 s passed, last round: green 0/"
    )
    assert "want 50 ± 5" in message


def test_answers_without_color_stop_the_check(
    color_server: StartColor, gateway: StartGateway
) -> None:
    a, b = color_server(None), color_server(None)
    gw = gateway({"blue": a.url, "green": b.url}, {"blue": 50, "green": 50})
    check = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=50)
    with pytest.raises(SplitNotInEffect, match="most requests got no colored answer") as err:
        check_split(check)
    assert "20 without X-Color" in str(err.value)
    assert gw.requests == split.UNCOLORED_STOP


def test_other_colors_are_counted_apart(color_server: StartColor, gateway: StartGateway) -> None:
    blue, purple = color_server("blue"), color_server("purple")
    gw = gateway({"blue": blue.url, "purple": purple.url}, {"blue": 97, "purple": 3})
    check = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=0)
    result = check_split(check)
    assert result.round.colors["green"] == 0
    assert sum(result.round.others.values()) == gw.served["purple"]
    if result.round.others:
        assert "other colors 'purple' x" in split.describe(check, result.round)


def test_a_gateway_that_does_not_answer_stops_the_check() -> None:
    server, _ = _serve(_Quiet)
    url = f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()
    check = SplitCheck(url, candidate="green", live="blue", weight=50)
    with pytest.raises(SplitNotInEffect, match=r"no answer 20x ConnectionRefusedError"):
        check_split(check)


def test_redirects_are_not_followed() -> None:
    hits = {"target": 0}

    class Redirect(_Quiet):
        def do_GET(self) -> None:
            if self.path == "/target":
                hits["target"] += 1
                self.reply(200, b"", {"X-Color": "green"})
            else:
                self.reply(302, b"", {"Location": "/target"})

    server, _ = _serve(Redirect)
    try:
        check = SplitCheck(
            f"http://127.0.0.1:{server.server_port}/", candidate="green", live="blue", weight=50
        )
        with pytest.raises(SplitNotInEffect, match="20 without X-Color"):
            check_split(check)
        assert hits["target"] == 0
    finally:
        server.shutdown()
        server.server_close()


def _fake(colors: Sequence[str | None]) -> Callable[[str, float], Answer]:
    cycle = itertools.cycle(colors)

    def get(url: str, timeout: float) -> Answer:
        color = next(cycle)
        return Answer(200, {} if color is None else {"x-color": color}, b"")

    return get


def test_a_round_that_stays_undecided_is_dropped() -> None:
    # One answer in four is the candidate's: 25 %, right on the edge of 20 ± 5, never decided.
    ticks = itertools.count()
    seen: list[str] = []
    check = SplitCheck("http://gw/", candidate="green", live="blue", weight=20, deadline_s=5000)
    with pytest.raises(SplitNotInEffect, match="deadline of 5000 s passed"):
        check_split(
            check,
            out=seen.append,
            get=_fake(["green"] + ["blue"] * 3),
            clock=lambda: next(ticks) * 0.5,
        )
    cap = 4 * check.answers_needed()
    assert seen[0].startswith(f"round 1: undecided after {cap} answers: green ")


def test_the_request_bound_holds_whatever_the_deadline() -> None:
    check = SplitCheck("http://gw/", candidate="green", live="blue", weight=20, deadline_s=1e9)
    with pytest.raises(SplitNotInEffect, match=f"{split.MAX_REQUESTS} requests made"):
        check_split(check, get=_fake(["green"] + ["blue"] * 3), clock=lambda: 0.0)


def test_colors_are_read_trimmed_from_the_header() -> None:
    check = SplitCheck("http://gw/", candidate="green", live="blue", weight=100)
    result = check_split(check, get=_fake([" green "]))
    assert result.round.colors == {"green": check.answers_needed()}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"url": "gw:80/"}, "url 'gw:80/' is not an http"),
        ({"candidate": "blue"}, "candidate 'blue' and live 'blue' must be two different colors"),
        ({"weight": 101}, "weight 101: allowed is a whole number 0-100"),
        ({"weight": 2.5}, "weight 2.5: allowed is a whole number 0-100"),
        ({"weight": True}, "weight True"),
        ({"tolerance": 0}, "tolerance 0: allowed is more than 0, at most 0.5"),
        ({"confidence": 1.0}, "confidence 1.0: allowed is 0.5 to 0.999"),
        ({"deadline_s": 0}, "deadline 0 s: allowed is more than 0"),
        ({"timeout_s": -1}, "request timeout -1 s"),
    ],
)
def test_bad_checks_are_one_line(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {
        "url": "http://gw/",
        "candidate": "green",
        "live": "blue",
        "weight": 25,
    }
    with pytest.raises(CanaryError, match=match):
        SplitCheck(**{**base, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["kubia", "py-web-server"])
def test_real_apps_through_the_stand_in(
    apps: Callable[[str, str], App], gateway: StartGateway, name: str
) -> None:
    """The apps of apps/ as processes, told their color in COLOR, behind the stand-in (which
    adds no color): they answer X-Color themselves, and the check sees the split as weighted."""
    blue, green = apps(name, "blue"), apps(name, "green")
    gw = gateway({"blue": blue.url, "green": green.url}, {"blue": 75, "green": 25})
    probe = get(gw.url + "/", 5.0)
    assert probe.status == 200
    assert probe.headers.get("x-color") in ("blue", "green"), probe.headers
    check = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=25, deadline_s=60)
    result = check_split(check)
    assert result.round.uncolored == 0
    assert result.round.colors["green"] == gw.served["green"] - (
        probe.headers["x-color"] == "green"
    )
    gw.set_weights({"blue": 100, "green": 0})
    back = SplitCheck(gw.url + "/", candidate="green", live="blue", weight=0)
    assert check_split(back).observed == 0


@pytest.mark.parametrize(("weight", "tolerance", "reaches"), [(5, 0.05, "0"), (97, 0.03, "100")])
def test_a_band_that_takes_in_an_unmoved_split_is_refused(
    weight: int, tolerance: float, reaches: str
) -> None:
    """At weight 5 with ±5 points, 0 candidate answers of 96 has a Wilson interval (0-6.5 %)
    inside the band: the check would pass a route that never moved."""
    with pytest.raises(CanaryError, match=f"the band would take in {reaches} %"):
        SplitCheck("http://gw/", candidate="green", live="blue", weight=weight, tolerance=tolerance)
    passed = check_split(
        SplitCheck("http://gw/", candidate="green", live="blue", weight=5, tolerance=0.049),
        get=_fake(["green"] + ["blue"] * 19),
        clock=lambda: 0.0,
    )
    assert passed.round.colors["green"] > 0
