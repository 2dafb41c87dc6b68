"""infra/release/verify.py: the live URL checked as the smoke check would, and a promote whose
check fails rolled back by itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.release import deployed, steps
from infra.release.deployed import Outputs
from infra.release.errors import ReleaseError
from infra.release.rendering import settings_of
from infra.release.verify import Verification, promote_and_verify, verify, verify_live
from tests.helpers import Answer
from tests.infra.release.harness import app_node, apply, outputs, up

QUICK = Verification(requests=3, interval_s=0)


@pytest.mark.parametrize(("status", "rolled_back"), [(200, False), (500, True)])
def test_promote_apply_checks_the_live_url_and_rolls_back(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    http_stub: Callable[[Answer], str],
    status: int,
    rolled_back: bool,
) -> None:
    url = http_stub(lambda _path, _n: (status, "ok"))
    applied: list[str] = []

    def fake_up(stack: str, message: str) -> None:
        applied.append(message)
        up(project, stack)

    def fake_outputs(stack: str, _file: Path | None) -> Outputs:
        data = outputs(project / f"outputs-{stack}.json")
        data["apps"]["imageview"]["url"] = url
        return data

    monkeypatch.setattr(deployed, "pulumi_up", fake_up)
    monkeypatch.setattr(deployed, "read_outputs", fake_outputs)
    monkeypatch.setenv("PULUMI", "true")
    apply(steps.plan_start("imageview", "imageview", outputs(up(project, "imageview"))))
    up(project, "imageview")
    lines: list[str] = []
    if rolled_back:
        with pytest.raises(ReleaseError) as caught:
            promote_and_verify("imageview", "imageview", None, QUICK, lines.append)
        assert str(caught.value).startswith("promote rolled back: request 1/3 to ")
        assert "500, expected 200. Traffic is on blue again and green is the candidate" in str(
            caught.value
        )
        assert [m.split(":")[0] for m in applied] == ["promote", "rollback"]
    else:
        promote_and_verify("imageview", "imageview", None, QUICK, lines.append)
        assert lines[-1].startswith("verified: 3 requests")
    app = app_node(project, "imageview", "imageview")
    assert app["activeColor"] == ("blue" if rolled_back else "green")


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((200, "hello"), None),
        ((503, ""), "request 1/3 to {url}/: 503, expected 200"),
    ],
)
def test_the_live_url_answers_as_the_smoke_check_expects(
    project: Path,
    http_stub: Callable[[Answer], str],
    answer: tuple[int, str],
    words: str | None,
) -> None:
    url = http_stub(lambda _path, _n: answer)
    app = settings_of("imageview").apps["imageview"]
    problem = verify_live(url, app, QUICK)
    assert problem == (words.format(url=url) if words else None)


def test_a_missing_text_or_answer_is_named(
    project: Path, http_stub: Callable[[Answer], str]
) -> None:
    kubia = settings_of("dev").apps["kubia"]
    app = dataclasses.replace(kubia, smoke=dataclasses.replace(kubia.smoke, text="ok"))
    url = http_stub(lambda _path, n: (200, "" if n == 2 else "ok"))
    problem = verify_live(url, app, QUICK)
    assert problem is not None and problem.startswith("request 2/3"), problem
    assert problem.endswith("no 'ok' in the page")
    closed = verify_live("http://127.0.0.1:9", app, Verification(requests=1, timeout_s=1))
    assert closed is not None and "no answer" in closed


def test_verify_without_a_public_url_checks_nothing(project: Path, tmp_path: Path) -> None:
    file = tmp_path / "outputs.json"
    file.write_text('{"apps": {"imageview": {"url": "", "active_color": "blue", "images": {}}}}')
    lines: list[str] = []
    assert verify("imageview", "imageview", file, QUICK, lines.append) is True
    assert lines == ["not verified: imageview has no public URL (a ClusterIP or local Service)"]
