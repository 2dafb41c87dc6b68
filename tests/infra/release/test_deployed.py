"""infra/release/deployed.py: what is deployed, read from an outputs file or the Pulumi CLI
($PULUMI), failing closed: a CLI that fails, hangs or is missing is one error line."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from infra import build_context
from infra.paths import ROOT
from infra.release import deployed
from infra.release.__main__ import main
from infra.release.errors import ReleaseError
from infra.release.rendering import settings_of
from tests.infra.release.harness import DIGEST, up
from tests.infra.release.harness import deployed as outputs_of
from tests.infra.release.stand_in import install


def _cli(folder: Path, script: str) -> Path:
    fake = folder / "pulumi"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return fake


def test_outputs_come_from_the_cli_that_pulumi_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, 'echo "$@" >&2; echo \'{"apps": {}}\'')))
    assert deployed.read_outputs("imageview", None) == {"apps": {}}


def test_outputs_fail_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PULUMI", str(_cli(tmp_path, "echo 'error: getting outputs: 403 Forbidden' >&2; exit 1"))
    )
    with pytest.raises(
        ReleaseError, match="pulumi stack output failed: error: getting outputs: 403"
    ):
        deployed.read_outputs("imageview", None)
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "echo 'not json'")))
    with pytest.raises(ReleaseError, match="did not print JSON; pass --outputs FILE instead"):
        deployed.read_outputs("imageview", None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PULUMI", "pulumi")
    with pytest.raises(ReleaseError, match=r"the Pulumi CLI \(pulumi\) is not on PATH"):
        deployed.read_outputs("imageview", None)


@pytest.mark.parametrize(
    ("text", "words"),
    [("{not json", "not a JSON outputs file"), ("[1, 2]", "not a JSON object")],
)
def test_an_outputs_file_that_is_not_outputs_is_one_line(
    tmp_path: Path, text: str, words: str
) -> None:
    file = tmp_path / "outputs.json"
    file.write_text(text)
    with pytest.raises(ReleaseError, match=words) as caught:
        deployed.read_outputs("imageview", file)
    assert "\n" not in str(caught.value)


def test_a_pulumi_cli_that_hangs_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "exec sleep 30")))
    monkeypatch.setattr(deployed, "PULUMI_TIMEOUT_S", 0.1)
    with pytest.raises(ReleaseError) as caught:
        deployed.read_outputs("imageview", None)
    assert str(caught.value).startswith("pulumi stack output did not finish within 0.1 s")


KUBECONFIG = "apiVersion: v1\nkind: Config\n"


def test_a_secret_output_is_read_with_show_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi stack output kubeconfig` prints `[secret]` without --show-secrets; the tool asks
    for the one output, shown, as JSON (a string with newlines comes back whole)."""
    argv, printed = tmp_path / "argv", tmp_path / "printed.json"
    printed.write_text(json.dumps(KUBECONFIG) + "\n")
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, f'echo "$@" > {argv}; cat {printed}')))
    assert deployed.read_secret_output("dev", "kubeconfig") == KUBECONFIG
    assert argv.read_text().split() == [
        "stack",
        "output",
        "kubeconfig",
        "--show-secrets",
        "--json",
        "--stack",
        "dev",
    ]
    for script, words in (
        (
            "echo \"error: current stack does not have output property 'kubeconfig'\" >&2\n"
            "exit 255",
            "pulumi stack output kubeconfig failed: error: current stack does not have",
        ),
        ("echo '[secret]'", "printed no text"),
        ("echo '{}'", "printed no text"),
        ("echo '\"\"'", "printed no text"),
    ):
        monkeypatch.setenv("PULUMI", str(_cli(tmp_path, script)))
        with pytest.raises(ReleaseError, match=re.escape(words)) as caught:
            deployed.read_secret_output("dev", "kubeconfig")
        assert "\n" not in str(caught.value)


def test_pulumi_up_that_fails_says_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "exit 3")))
    with pytest.raises(ReleaseError) as caught:
        deployed.pulumi_up("imageview", "start")
    assert "pulumi up failed (exit 3" in str(caught.value)
    assert "run `pulumi up --stack imageview`" in str(caught.value)


def test_the_live_image_is_the_one_the_outputs_name() -> None:
    assert deployed.live_image("s", outputs_of("iv"), "iv", "blue") == DIGEST
    with pytest.raises(ReleaseError, match="iv is not deployed on stack s yet"):
        deployed.live_image("s", {}, "iv", "blue")
    with pytest.raises(ReleaseError, match="the outputs name no image for iv's green color"):
        deployed.live_image("s", outputs_of("iv"), "iv", "green")
    assert deployed.deployed_app({"apps": []}, "iv") is None


def test_deployed_builds_keep_their_digests_in_the_renders(project: Path) -> None:
    """Each build a color was deployed from gets the deployed digest; before the step also a
    build whose sources changed since (that is what runs), after it only the very same one."""
    settings = settings_of("imageview")
    digests = {
        c: f"gcr.io/hello-docker/imageview@sha256:{n * 64}"
        for c, n in (("blue", "b"), ("green", "c"))
    }
    blue_tag = build_context.tag(ROOT / "apps/imageview/blue")
    tagged = {
        "apps": {
            "imageview": {
                "active_color": "blue",
                "images": digests,
                "tags": {"blue": blue_tag, "green": "src-000000000000"},
            }
        }
    }
    images = deployed.deployed_images(settings, tagged)
    green_now = f"gcr.io/hello-docker/imageview:{build_context.tag(ROOT / 'apps/imageview/green')}"
    assert images.before[f"gcr.io/hello-docker/imageview:{blue_tag}"] == digests["blue"]
    assert images.before[green_now] == digests["green"], "what runs, whatever it was built from"
    assert green_now not in images.after, "a changed build gets a new digest"
    assert images.after["gcr.io/hello-docker/imageview:src-000000000000"] == digests["green"]
    assert images.note() is None
    del tagged["apps"]["imageview"]["tags"]
    untagged = deployed.deployed_images(settings, tagged)
    assert untagged.after[green_now] == digests["green"]
    assert untagged.assumed == ("imageview's blue", "imageview's green")
    assert "assumes the current sources" in str(untagged.note())


def test_an_apply_without_a_pulumi_cli_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(project / "empty"))
    monkeypatch.setenv("PULUMI", "pulumi")
    path = project / "stacks/Pulumi.imageview.yaml"
    before = path.read_text()
    served = str(up(project, "imageview"))
    argv = ["start", "--stack", "imageview", "--app", "imageview", "--outputs", served, "--apply"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the Pulumi CLI (pulumi) is not on PATH")
    assert err.endswith("nothing written\n") and path.read_text() == before


def test_a_pulumi_up_that_is_killed_is_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(project, monkeypatch).queue("up", "killed")
    served = str(up(project, "imageview"))
    argv = ["start", "--stack", "imageview", "--app", "imageview", "--outputs", served, "--apply"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: pulumi up was killed (signal 9); ")
    assert "what the cluster runs is unknown" in err


def test_failed_smoke_jobs_are_read_from_the_engine_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a smoke Job the engine recorded with init errors counts: not one that is pending
    deletion (the Job a failed replacement was to replace), nor another kind of resource."""
    job = (
        "urn:pulumi:local::gke-bluegreen::gke-bluegreen:infra:BlueGreenApp"
        "$kubernetes:batch/v1:Job::"
    )
    state = {
        "version": 3,
        "deployment": {
            "resources": [
                {
                    "urn": job + "kubia-smoke-blue",
                    "type": "kubernetes:batch/v1:Job",
                    "outputs": {"metadata": {"name": "kubia-smoke-blue-a0f135f3"}},
                    "initErrors": [
                        "[Pod kubia-smoke-blue-a0f135f3-cxk49]: [Error] marked broken",
                        "[BackoffLimitExceeded] Job has reached the specified backoff limit",
                    ],
                },
                {
                    "urn": job + "kubia-smoke-blue",
                    "type": "kubernetes:batch/v1:Job",
                    "outputs": {"metadata": {"name": "kubia-smoke-blue-35902610"}},
                    "initErrors": ["old"],
                    "delete": True,
                },
                {"urn": job + "kubia-smoke-green", "type": "kubernetes:batch/v1:Job"},
                {
                    "urn": "urn:pulumi:local::gke-bluegreen::kubernetes:apps/v1:Deployment::x",
                    "type": "kubernetes:apps/v1:Deployment",
                    "initErrors": ["timed out waiting to be Ready"],
                },
            ]
        },
    }
    file = tmp_path / "state.json"
    file.write_text(json.dumps(state))
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, f"cat {file}")))
    assert deployed.failed_smoke_jobs("local") == {
        "kubia-smoke-blue": "Job kubia-smoke-blue-a0f135f3: [BackoffLimitExceeded] Job has "
        "reached the specified backoff limit"
    }
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "echo 'error: 403 Forbidden' >&2; exit 1")))
    with pytest.raises(ReleaseError, match="pulumi stack export failed: error: 403 Forbidden"):
        deployed.failed_smoke_jobs("local")
    for text in ("not json", "[]", '{"deployment": {"resources": {}}}'):
        monkeypatch.setenv("PULUMI", str(_cli(tmp_path, f"echo '{text}'")))
        with pytest.raises(ReleaseError, match="did not print a stack's state"):
            deployed.failed_smoke_jobs("local")
