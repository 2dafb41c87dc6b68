"""infra/config/colors.py: a color's env reads back as written, and its ConfigMaps stay within
Kubernetes' 1 MiB, counted as the API server counts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.config import colors as colors_section
from tests.infra.config.cases import parsed, refused, with_value

A = "apps.imageview"


def test_env_entries_read_back_as_the_same_variables() -> None:
    """What the release tool writes for a pinned color's env is what the parser reads."""
    raw = with_value(f"{A}.env.PLAIN", "text")
    colors = parsed(raw).apps["imageview"].colors
    env = {var.name: colors_section.env_entry(var) for var in colors["blue"].env}
    assert env["PLAIN"] == "text"
    assert env["SECRET_KEY"] == {"secretKeyRef": {"name": "apikey", "key": "key"}}
    again = parsed(with_value(f"{A}.colors.blue.env", env)).apps["imageview"].colors["blue"]
    assert again.env == colors["blue"].env


#: Kubernetes' limit on the data of one ConfigMap or Secret (1 MiB).
LIMIT = 1024 * 1024


def _with_config_map(data: dict[str, str], color_data: dict[str, str] | None = None) -> Any:
    raw = with_value(f"{A}.configMaps", {"projectid": {"project.id": "hello-docker"}, "big": data})
    if color_data is not None:
        raw = with_value(f"{A}.colors.green.configMaps", {"big": color_data}, raw)
    return raw


def test_a_config_map_may_hold_up_to_1_mib_of_values() -> None:
    """Only the values count, as UTF-8 bytes: a 2-byte character at the end fills it exactly."""
    data = {"a.txt": "a" * (LIMIT // 2), "b.txt": "b" * (LIMIT // 2 - 2) + "é"}
    settings = parsed(_with_config_map(data))
    assert settings.apps["imageview"].colors["blue"].config_maps["big"] == data


def test_a_config_map_one_byte_over_1_mib_is_refused_naming_app_object_and_size() -> None:
    data = {"a.txt": "a" * (LIMIT // 2), "b.txt": "b" * (LIMIT // 2 - 1) + "é"}
    message = refused(_with_config_map(data), f"{A}.configMaps.big", "1048577 bytes")
    assert "the blue ConfigMap big of app imageview would hold 1048577 bytes of data" in message
    assert "over Kubernetes' limit of 1048576 bytes (1 MiB)" in message
    assert len(message) < 500, "the value is cut, not printed whole"


def test_a_color_override_that_tips_a_config_map_over_names_the_colors_key() -> None:
    data = {"a.txt": "a" * LIMIT}
    parsed(_with_config_map(data))  # at the limit on both colors
    message = refused(
        _with_config_map(data, {"extra": "x"}),
        f"{A}.colors.green.configMaps.big",
        "the green ConfigMap big of app imageview would hold 1048577 bytes",
    )
    assert "blue" not in message


@pytest.mark.parametrize(
    ("ignore", "problem"),
    [
        (None, "web/Dockerfile.dockerignore is missing"),
        ("!web/app.js\n", "must start with '*' (deny all)"),
        ("*\n!web/*.js\n", "'!web/*.js' is not '!<path>' with a literal path"),
        ("*\nweb/app.js\n", "'web/app.js' is not '!<path>'"),
        ("*\n!../secret\n", "'!../secret' is not '!<path>'"),
        ("*\n!/etc/passwd\n", "'!/etc/passwd' is not '!<path>'"),
        ("*\n!web/gone.js\n", "'!web/gone.js' names nothing under apps/"),
    ],
)
def test_source_needs_a_literal_allow_list_beside_its_dockerfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ignore: str | None, problem: str
) -> None:
    apps = tmp_path / "apps"
    (apps / "web").mkdir(parents=True)
    (apps / "web/Dockerfile").write_text("FROM scratch\nCOPY web/app.js /\n")
    (apps / "web/app.js").write_text("")
    if ignore is not None:
        (apps / "web/Dockerfile.dockerignore").write_text(ignore)
    monkeypatch.setattr(colors_section, "ROOT", tmp_path)
    monkeypatch.setattr(colors_section, "APPS", apps)
    colors = {"blue": {"source": "apps/web"}, "green": {"source": "apps/web"}}
    message = refused(with_value(f"{A}.colors", colors), f"{A}.colors.blue.source", problem)
    assert "Dockerfile.dockerignore allow-list" in message


def test_a_source_whose_files_link_out_of_apps_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = tmp_path / "apps"
    (apps / "web").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("a host file")
    (apps / "web/Dockerfile").write_text("FROM scratch\n")
    (apps / "web/Dockerfile.dockerignore").write_text("*\n!web/\n")
    (apps / "web/secret.txt").symlink_to(tmp_path / "outside.txt")
    monkeypatch.setattr(colors_section, "ROOT", tmp_path)
    monkeypatch.setattr(colors_section, "APPS", apps)
    colors = {"blue": {"source": "apps/web"}, "green": {"source": "apps/web"}}
    refused(
        with_value(f"{A}.colors", colors), f"{A}.colors.blue.source", "web/secret.txt is a link"
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [(f"{A}.env", "PORT"), (f"{A}.env", "COLOR"), (f"{A}.colors.green.env", "COLOR")],
)
def test_the_variables_the_program_sets_are_not_the_stacks_to_set(path: str, name: str) -> None:
    """PORT is the container port and COLOR the pod's color (answered in X-Color): a stack's own
    value would make a color claim another's requests, or listen where nothing sends."""
    raw = with_value(f"{path}.{name}", "green")
    refused(raw, f"{path}.{name}", "the program sets PORT (containerPort) and COLOR")
