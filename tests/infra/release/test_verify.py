"""infra/release/verify.py: the live URL checked as the smoke check would, and a promote whose
check fails rolled back by itself."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infra.release import deployed, rendering
from infra.release.__main__ import main
from infra.release.deployed import Outputs
from infra.release.errors import ReleaseError
from infra.release.rendering import settings_of
from infra.release.start import plan_start
from infra.release.verify import Verification, promote_and_verify, verify, verify_live
from tests.helpers import Answer
from tests.infra.release.harness import app_node, apply, deployed_outputs, outputs, up
from tests.infra.release.stand_in import StandIn, install

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

    def fake_up(stack: str, message: str, extra: Sequence[str] = ()) -> None:
        applied.append(message)
        up(project, stack)

    def fake_outputs(stack: str, _file: Path | None) -> Outputs:
        data = outputs(project / f"outputs-{stack}.json")
        data["apps"]["imageview"]["url"] = url
        return data

    monkeypatch.setattr(deployed, "pulumi_up", fake_up)
    monkeypatch.setattr(deployed, "read_outputs", fake_outputs)
    monkeypatch.setattr(deployed, "failed_smoke_jobs", lambda _stack: {})
    monkeypatch.setenv("PULUMI", "true")
    apply(plan_start("imageview", "imageview", outputs(up(project, "imageview"))))
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


# ------------------------------------------------------------------ through the command line

IV = ["--stack", "imageview", "--app", "imageview"]


def _started(project: Path, stand_in: StandIn, url: str) -> None:
    """imageview deployed (registry digests, its live URL ``url``), then started and applied."""
    deployed = deployed_outputs(rendering.render("imageview"))
    deployed["apps"]["imageview"]["url"] = url
    stand_in.keep("imageview", deployed)
    assert main(["start", *IV]) == 0
    after = deployed_outputs(rendering.render("imageview"))
    after["apps"]["imageview"]["url"] = url
    stand_in.keep("imageview", after)


@pytest.mark.parametrize("after", ["empty", "foreign", "garbage", "stale"])
def test_promote_apply_whose_check_cannot_run_is_not_a_success(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    http_stub: Callable[[Answer], str],
    after: str,
) -> None:
    """`pulumi up` went through, then the outputs are empty, of another stack, garbage, or still
    those of before (the cluster serving blue): the live URL cannot be checked for green."""
    stand_in = install(project, monkeypatch)
    _started(project, stand_in, http_stub(lambda _path, _n: (200, "ok")))
    stand_in.queue("up", "noop")
    stand_in.queue("output", "state", "state" if after == "stale" else after)
    assert main(["promote", *IV, "--apply", "--verify-requests", "1"]) == 1
    captured = capsys.readouterr()
    assert "verified" not in captured.out.replace("NOT VERIFIED", "")
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("error: promote applied, but NOT VERIFIED: "), captured.err
    assert "Traffic may be on green unchecked: run `verify --stack imageview" in captured.err
    assert stand_in.calls() == [
        "output imageview",  # start
        "output imageview",  # promote --apply: what is deployed before
        "export imageview",  # and whether the candidate's smoke Job failed
        "up imageview",
        "output imageview",  # what the cluster serves after: cannot be trusted
    ]


def test_a_failed_promote_apply_is_told_and_taken_again(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    http_stub: Callable[[Answer], str],
) -> None:
    """`pulumi up` of a promote fails: status does not say green serves (with the outputs it
    says it does not, without them that it cannot know), and promote takes it again."""
    url = http_stub(lambda _path, _n: (200, "ok"))
    stand_in = install(project, monkeypatch)
    _started(project, stand_in, url)
    stand_in.queue("up", "fail", "ok", url=url)
    assert main(["promote", *IV, "--apply", "--verify-requests", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: pulumi up failed (exit 1; its output is above); ")

    served = project / "served.json"
    served.write_text(json.dumps(stand_in.outputs("imageview")))
    assert main(["status", *IV, "--outputs", str(served)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("promoted, not applied: next promote --apply or rollback"), lines
    assert lines[2].startswith(
        "DRIFT: imageview: NOT APPLIED: the stack file records the promote to green, but the "
        "cluster still serves blue"
    )
    assert main(["status", *IV]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("SERVED: unknown")
    assert main(["status", *IV, "--outputs", str(served), "--json"]) == 0
    (app,) = json.loads(capsys.readouterr().out)["apps"]
    assert (app["step"], app["next"], app["served"]) == ("promoted", "promote", "blue")

    assert main(["promote", *IV, "--apply", "--verify-requests", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("promote (again): the stack file records the promote to green, and ")
    assert "moves traffic  Service webserver" in out and "records it already" in out
    assert out.splitlines()[-1] == f"verified: 1 requests to {url} answered 200"
    assert stand_in.outputs("imageview")["apps"]["imageview"]["active_color"] == "green"


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _redirect(to: str) -> type[BaseHTTPRequestHandler]:
    class Redirect(_Ok):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Redirect


class _Trickle(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "20")
        self.end_headers()
        try:
            for _ in range(20):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the client gave up, as it should

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[str, type[BaseHTTPRequestHandler]], str]]:
    """HTTP servers on loopback addresses (127.0.0.1, 127.0.0.2) with a given handler."""
    servers: list[ThreadingHTTPServer] = []

    def start(host: str, handler: type[BaseHTTPRequestHandler]) -> str:
        httpd = ThreadingHTTPServer((host, 0), handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(httpd)
        return f"http://{host}:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _outputs_with(project: Path, url: str) -> str:
    file = project / "live.json"
    deployed = deployed_outputs(rendering.render("imageview"))
    deployed["apps"]["imageview"]["url"] = url
    file.write_text(json.dumps(deployed))
    return str(file)


def test_verify_follows_no_redirect(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    serve: Callable[[str, type[BaseHTTPRequestHandler]], str],
) -> None:
    """The live URL answers 302 to another host, which would answer 200: not verified."""
    elsewhere = serve("127.0.0.2", _Ok)
    url = serve("127.0.0.1", _redirect(f"{elsewhere}/landing"))
    file = _outputs_with(project, url)
    assert main(["verify", *IV, "--outputs", file, "--requests", "1"]) == 1
    assert capsys.readouterr().out == (
        f"live check failed: request 1/1 to {url}/: 302, a redirect to {elsewhere}/landing, "
        "not followed: the live URL must answer 200 itself\n"
    )


def test_the_timeout_bounds_the_whole_request(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    serve: Callable[[str, type[BaseHTTPRequestHandler]], str],
) -> None:
    """A body trickling in at 2 bytes/s (20 bytes: 10 s) fails at the 1 s timeout."""
    file = _outputs_with(project, serve("127.0.0.1", _Trickle))
    started = time.monotonic()
    assert main(["verify", *IV, "--outputs", file, "--requests", "1", "--timeout", "1"]) == 1
    assert time.monotonic() - started < 4
    out = capsys.readouterr().out
    assert out.startswith("live check failed: request 1/1 to ")
    assert out.endswith(": no answer (no whole answer within 1 s)\n"), out


@pytest.mark.parametrize("export", ["failed:imageview-smoke-green", "garbage", "fail"])
def test_a_promote_to_a_candidate_whose_smoke_job_failed_is_refused(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    http_stub: Callable[[Answer], str],
    export: str,
) -> None:
    """The candidate's smoke Job failed in the start's `pulumi up` (the engine's state says so):
    the engine would take it again in the promote's update and fail there. Refused before
    anything is written or applied; so is a promote whose state cannot be read."""
    stand_in = install(project, monkeypatch)
    url = http_stub(lambda _path, _n: (200, "ok"))
    _started(project, stand_in, url)
    stand_in.queue("export", export)
    file = project / "stacks" / "Pulumi.imageview.yaml"
    before = file.read_text()
    assert main(["promote", *IV, "--apply", "--verify-requests", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    if export.startswith("failed:"):
        assert err.startswith(
            "error: promote refused, nothing written: the candidate green failed its smoke check "
            "in the last `pulumi up` (Job imageview-smoke-green-0123abcd: [BackoffLimitExceeded]"
        ), err
        assert "`start` again with a fix (a new --source, --image or --set)" in err
    else:
        assert "nothing written" in err and "pulumi stack export" in err, err
    assert file.read_text() == before
    assert "up imageview" not in stand_in.calls()
    # The live color's Job is not the candidate's: a failed Job of another app or color is not
    # what this promote would move traffic to.
    stand_in.queue("export", "failed:imageview-smoke-blue")
    stand_in.queue("up", "ok", url=url)
    assert main(["promote", *IV, "--apply", "--verify-requests", "1"]) == 0
