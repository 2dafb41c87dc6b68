"""infra/release/document.py: the stack file edited as a person would edit it (comments and order
kept, no line ending in a space, no value wrapped onto a line of its own), replaced whole, and a
file it cannot round-trip refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.release import rendering, run
from infra.release.__main__ import main
from infra.release.document import StackFile
from infra.release.errors import ReleaseError
from infra.release.start import plan_start
from tests.infra.release.harness import DIGEST, app_node, deployed, up

LONG_DIGEST = "asia-northeast1-docker.pkg.dev/a-long-project-id/applications/imageview@sha256:" + (
    "f" * 64
)


def test_a_start_writes_the_stack_file_as_a_person_would(project: Path) -> None:
    path = project / "stacks/Pulumi.imageview.yaml"
    before = path.read_text().splitlines()
    comments = [line for line in before if "#" in line]
    step = plan_start(
        "imageview",
        "imageview",
        deployed("imageview", image=LONG_DIGEST),
        sets=["apps.imageview.colors.green.env.GREETING=hello"],
    )
    step.file.write()
    lines = path.read_text().splitlines()

    assert [n for n, line in enumerate(lines, 1) if line != line.rstrip()] == []
    images = [line.strip() for line in lines if line.strip().startswith("image:")]
    pinned = [image for image in images if not image.startswith("image: src-")]
    assert pinned == [f"image: {LONG_DIGEST}"] * 2, "colors.blue.image and release.live.image"
    assert len(images) == 3, "and the candidate's record, by content tag"
    assert [line for line in lines if "#" in line] == comments, "comments kept, in order"
    assert lines[: before.index("      colors:")] == before[: before.index("      colors:")]
    assert "            SECRET_ID:" in lines
    assert "              secretKeyRef: {name: apikey, key: id}" in lines, "a reference on one line"
    assert app_node(project, "imageview", "imageview")["colors"]["green"]["env"] == {
        "GREETING": "hello"
    }


def test_set_edits_as_pulumi_config_set_path_does(project: Path) -> None:
    file = StackFile("imageview")
    file.set("apps.imageview.colors.green.replicas=2")
    file.set("cluster.authorizedNetworks[0].cidrBlock=203.0.113.0/24")
    file.set('apps.imageview.configMaps.projectid["project.id"]=next')
    document = yaml.safe_load(file.text())["config"]
    assert document["gke-bluegreen:apps"]["imageview"]["colors"]["green"]["replicas"] == 2
    assert document["gke-bluegreen:cluster"]["authorizedNetworks"] == [
        {"cidrBlock": "203.0.113.0/24"}
    ]
    assert document["gke-bluegreen:apps"]["imageview"]["configMaps"]["projectid"] == {
        "project.id": "next"
    }
    assert "machineType: n1-standard-1      # the console's" in file.text(), "comments kept"


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("apps.imageview.replicas", "--set 'apps.imageview.replicas': expected PATH=VALUE"),
        ("apps..x=1", "--set path 'apps..x'"),
        ("cluster.authorizedNetworks[3].cidrBlock=x", "array index 3 out of range"),
    ],
)
def test_a_bad_set_is_one_line(project: Path, item: str, words: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        StackFile("imageview").set(item)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_app_names_the_apps_there_are(project: Path) -> None:
    with pytest.raises(ReleaseError) as caught:
        StackFile("dev").app("ghost")
    assert str(caught.value) == (
        "--app 'ghost': stack dev has no such app; its apps: py-web-server, kubia, node-app"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [("a: [unclosed\n", "cannot read it as YAML"), ("- x\n", "must be a mapping")],
)
def test_the_editor_refuses_what_it_cannot_round_trip(project: Path, text: str, words: str) -> None:
    (project / "stacks/Pulumi.imageview.yaml").write_text(text)
    with pytest.raises(ReleaseError, match=words) as caught:
        StackFile("imageview")
    assert "\n" not in str(caught.value) and "run the step again" in str(caught.value)


def test_a_stack_file_that_cannot_be_replaced_stays_whole(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project / "stacks/Pulumi.dev.yaml"
    before = path.read_text()
    file = StackFile("dev")
    file.config()["gke-bluegreen:region"] = "somewhere"

    def refuse(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(
        ReleaseError, match=r"cannot write Pulumi\.dev\.yaml: No space left on device"
    ):
        file.write()
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "Pulumi.dev.yaml",
        "Pulumi.imageview.yaml",
    ]


def test_what_is_written_reads_back_as_written(project: Path) -> None:
    file = StackFile("imageview")
    file.set(f"apps.imageview.colors.blue.image={DIGEST}")
    file.write()
    assert StackFile("imageview").text() == file.text()


def test_a_stack_file_changed_while_a_step_ran_is_not_written_over(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone saves the stack file (an editor, a pull) while the step renders: the step writes
    nothing, and their change stays."""
    path = project / "stacks/Pulumi.imageview.yaml"
    served = up(project, "imageview")
    render = rendering.render

    def render_while_someone_edits(*args: Any, **kwargs: Any) -> Any:
        if "# edited meanwhile" not in path.read_text():
            path.write_text(path.read_text() + "# edited meanwhile\n")
        return render(*args, **kwargs)

    monkeypatch.setattr(rendering, "render", render_while_someone_edits)
    monkeypatch.setattr(run, "render", render_while_someone_edits)
    argv = ["start", "--stack", "imageview", "--app", "imageview", "--outputs", str(served)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: Pulumi.imageview.yaml changed since this step read it (another edit, a pull); "
        "nothing written: run the step again on the file as it is now\n"
    )
    assert (
        path.read_text().endswith("# edited meanwhile\n") and "candidate:" not in path.read_text()
    )
