"""infra/config/secrets.py: the shape of secrets.<app>.<key> is checked, no error ever shows a
value, and numbers stored by `pulumi config set --path` are accepted as their text."""

from __future__ import annotations

import pytest

from infra.config import secrets as secrets_section
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
