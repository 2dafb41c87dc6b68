"""infra/config/secrets.py: the shape of secrets.<app>.<key> is checked, no error ever shows a
value, and numbers stored by `pulumi config set --path` are accepted as their text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from infra.config import secrets as secrets_section
from infra.doctor.check import Doctor
from infra.offline import stackfile
from tests.infra.config.cases import SECRETS, base, parsed, refused

VALUES = ("asa", "s3cret-key", "plain-string", '"a"', '"b"', '"c"', '"y"', "12345")


@pytest.mark.parametrize(
    ("secrets", "key", "words"),
    [
        (None, "secrets.imageview.id", "pulumi config set --secret --path 'secrets.imageview.id'"),
        ({"imageview": {"id": "a"}}, "secrets.imageview.key", "pulumi config set --secret"),
        ({"imageview": {"id": "a", "key": ""}}, "secrets.imageview.key", "non-empty"),
        ({"imageview": {"id": "a", "key": ["b"]}}, "secrets.imageview.key", "non-empty"),
        (
            {"imageview": {"id": "a", "key": "b", "extra": "c"}},
            "secrets.imageview.extra",
            "allowed keys: id, key",
        ),
        ({**SECRETS, "ghost": {"x": "y"}}, "secrets.ghost", "no such app; apps: imageview"),
        ("a-plain-string", "secrets", "secrets.<app>.<key>"),
        ({"imageview": "12345"}, "secrets.imageview", "expected an object of keys"),
    ],
)
def test_bad_secrets_never_echo_the_value(secrets: object, key: str, words: str) -> None:
    message = refused(base(), key, words, secrets=secrets)
    for value in VALUES:
        assert value not in message, message


def test_numbers_and_booleans_stored_by_the_cli_are_their_text() -> None:
    """`pulumi config set --secret --path secrets.imageview.id 12345` stores a number."""
    assert secrets_section.as_text(12345) == "12345"
    assert secrets_section.as_text(True) == "true"
    assert secrets_section.as_text("0123") == "0123"
    settings = parsed(secrets={"imageview": {"id": 12345, "key": "k"}})
    assert settings.secrets.keys_of("imageview") == ("id", "key")


def test_repr_hides_values() -> None:
    text = repr(parsed())
    assert "asa" not in text and "s3cret-key" not in text
    assert "values hidden" in text


def test_the_set_command_is_exact() -> None:
    assert secrets_section.set_command("imageview", "id") == (
        "pulumi config set --secret --path 'secrets.imageview.id' VALUE"
    )


def test_a_color_may_read_its_own_pinned_copy() -> None:
    secrets = {
        "imageview": {
            "id": "new-id",
            "key": "new-key",
            "colors": {"blue": {"id": "old-id", "key": "old-key"}},
        }
    }
    s = parsed(secrets=secrets)
    assert s.secrets.own_colors("imageview") == ("blue",)
    assert s.secrets.keys_of("imageview") == ("id", "key")


@pytest.mark.parametrize(
    ("copies", "key", "words"),
    [
        ({"red": {"id": "a", "key": "b"}}, "secrets.imageview.colors.red", "blue or green"),
        ({"blue": {"id": "a"}}, "secrets.imageview.colors.blue.key", "colors.blue.key"),
        ({"blue": {"id": "a", "key": "b", "x": "c"}}, "secrets.imageview.colors.blue.x", "allowed"),
        ("a-string", "secrets.imageview.colors", "blue/green"),
    ],
)
def test_bad_copies_name_their_key(copies: object, key: str, words: str) -> None:
    secrets = {"imageview": {"id": "i", "key": "k", "colors": copies}}
    message = refused(base(), key, words, secrets=secrets)
    assert "a-string" not in message


def test_colors_is_a_reserved_secret_key() -> None:
    raw = base()
    raw["apps"]["imageview"]["secret"]["keys"] = ["id", "colors"]
    refused(raw, "apps.imageview.secret.keys", "reserved")


def _raw(apps: object, secrets: object = None) -> dict[str, object]:
    """A stack's config by full key, as the stack file holds it."""
    config: dict[str, object] = {"gke-bluegreen:apps": apps}
    if secrets is not None:
        config[secrets_section.FULL_KEY] = secrets
    return config


def test_declared_keys_read_the_stack_files_shape_and_skip_the_rest() -> None:
    apps = {
        "imageview": {"secret": {"name": "apikey", "keys": ["id", 7, "key"]}},
        "kubia": {"replicas": 2},
        "text": "not an app",
        "odd": {"secret": "apikey"},
        "no-list": {"secret": {"keys": "id"}},
    }
    assert secrets_section.declared_keys(_raw(apps)) == {"imageview": ("id", "key")}
    assert secrets_section.declared_keys(_raw("not apps")) == {}
    assert secrets_section.declared_keys({}) == {}


def test_stored_gives_the_value_as_the_stack_file_has_it() -> None:
    encrypted = {"secure": "v1:AAAA"}
    config = _raw({}, {"imageview": {"id": encrypted, "key": "plain"}, "kubia": "text"})
    assert secrets_section.stored(config, "imageview", "id") == encrypted
    assert secrets_section.stored(config, "imageview", "key") == "plain"
    assert secrets_section.stored(config, "imageview", "other") is None
    assert secrets_section.stored(config, "kubia", "id") is None, "a wrong shape holds nothing"
    assert secrets_section.stored(_raw({}), "imageview", "id") is None


def test_placeholders_fill_what_is_unset_at_the_app_and_in_each_copy() -> None:
    apps = {"imageview": {"secret": {"keys": ["id", "key"]}}, "kubia": {}}
    given = {"imageview": {"id": "set", "colors": {"blue": {"key": "pinned"}, "red": "text"}}}
    assert secrets_section.with_placeholders(_raw(apps, given)) == {
        "imageview": {
            "id": "set",
            "key": "placeholder-imageview-key",
            "colors": {
                "blue": {"id": "placeholder-imageview-id", "key": "pinned"},
                "red": "text",
            },
        }
    }
    assert secrets_section.with_placeholders(_raw(apps)) == {
        "imageview": {"id": "placeholder-imageview-id", "key": "placeholder-imageview-key"}
    }
    assert secrets_section.with_placeholders(_raw(apps, "plain")) is None
    assert secrets_section.with_placeholders(_raw(apps, {"imageview": "x"})) == {
        "imageview": "x"
    }, "left for parse to refuse"


def test_the_doctor_and_the_render_ask_the_same_function(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One reading of the declared keys: the doctor names as unset exactly the keys the offline
    render gives placeholders, and both asked ``declared_keys``."""
    asked: list[dict[str, tuple[str, ...]]] = []
    real = secrets_section.declared_keys

    def spy(config: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
        asked.append(real(config))
        return asked[-1]

    monkeypatch.setattr(secrets_section, "declared_keys", spy)
    merged = stackfile.merged("imageview")
    assert len(asked) == 1, "the render asked"
    doctor = Doctor("imageview", env={"PATH": str(tmp_path)}, home=tmp_path)
    doctor.stack.secrets()
    assert len(asked) == 2 and asked[0] == asked[1] == {"imageview": ("id", "key")}
    placeholders = merged.values[secrets_section.FULL_KEY]["imageview"]
    unset = next(f for f in doctor.findings if f.what == "secrets")
    assert unset.status == "MISSING" and "(and 1 more)" in unset.detail
    assert sorted(placeholders) == sorted(asked[0]["imageview"])


#: Kubernetes' limit on the data of one Secret (1 MiB).
LIMIT = 1024 * 1024


def test_secret_values_may_total_1_mib() -> None:
    settings = parsed(secrets={"imageview": {"id": "i" * (LIMIT - 4), "key": "k€"}})
    assert settings.secrets.keys_of("imageview") == ("id", "key")


@pytest.mark.parametrize(
    ("secrets", "key", "words"),
    [
        (
            {"imageview": {"id": "i" * (LIMIT - 3), "key": "k€"}},
            "secrets.imageview",
            "Secret apikey of app imageview would hold 1048577 bytes of data, over Kubernetes' "
            "limit of 1048576 bytes (1 MiB)",
        ),
        (
            {
                "imageview": {
                    "id": "a",
                    "key": "b",
                    "colors": {"green": {"id": "i" * LIMIT, "key": "k"}},
                }
            },
            "secrets.imageview.colors.green",
            "the green color's Secret apikey of app imageview would hold 1048577 bytes",
        ),
    ],
)
def test_secret_values_over_1_mib_are_refused_without_showing_them(
    secrets: object, key: str, words: str
) -> None:
    message = refused(base(), key, words, secrets=secrets)
    assert "iii" not in message and "k€" not in message
