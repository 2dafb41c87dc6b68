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
