"""The ``secrets`` key: the values of each app's Secret, ``secrets.<app>.<key>``.

Only the shape is checked here (which apps, which keys, that each value is set); no error ever shows
a value, not even a wrong one. The values themselves leave only as secret Outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pulumi

from infra.settings import AppSettings, ConfigError, SecretValues

#: The top-level key that holds every app secret; the only key that may be set with --secret.
KEY = "secrets"


def set_command(app: str, key: str) -> str:
    """The exact command that sets one secret value."""
    return f"pulumi config set --secret --path '{KEY}.{app}.{key}' VALUE"


def as_text(value: object) -> str | None:
    """A secret value as text: strings as they are, and the numbers and booleans that
    ``pulumi config set --path`` stores typed (``12345`` is stored as a number) as their text.
    ``None`` for anything else (an object, a list, an empty string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**19 else None
    if isinstance(value, str) and value:
        return value
    return None


def parse(
    raw: object,
    apps: Mapping[str, AppSettings],
    lookup: Callable[[str, str], pulumi.Output[str]] | None = None,
) -> SecretValues:
    """Checks ``raw`` (the decoded ``secrets`` object) against the Secrets the apps declare.

    ``lookup(app, key)`` gives a value as a secret Output when the program needs it; by default the
    value is taken from ``raw`` itself (the offline render and unit tests).
    """
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(KEY, raw, "expected secrets.<app>.<key> values (--path)", secret=True)
    given: Mapping[str, object] = raw or {}
    for app_name, data in given.items():
        if app_name not in apps:
            raise ConfigError(
                f"{KEY}.{app_name}", data, f"no such app; apps: {', '.join(apps)}", secret=True
            )
        if apps[app_name].secret is None:
            raise ConfigError(
                f"{KEY}.{app_name}", data, f"apps.{app_name} declares no secret", secret=True
            )
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{KEY}.{app_name}",
                data,
                f"expected an object of keys; set each with: {set_command(app_name, '<key>')}",
                secret=True,
            )
    keys: dict[str, tuple[str, ...]] = {}
    for app in apps.values():
        if app.secret is None:
            continue
        data = given.get(app.name) or {}
        assert isinstance(data, Mapping)
        extra = sorted(set(data) - set(app.secret.keys))
        if extra:
            raise ConfigError(
                f"{KEY}.{app.name}.{extra[0]}",
                data[extra[0]],
                f"allowed keys: {', '.join(app.secret.keys)}",
                secret=True,
            )
        for k in app.secret.keys:
            value = data.get(k)
            if as_text(value) is None:
                raise ConfigError(
                    f"{KEY}.{app.name}.{k}",
                    value,
                    "a non-empty value is required; set it with: " + set_command(app.name, k),
                    secret=True,
                )
        keys[app.name] = app.secret.keys
    return SecretValues(keys, lookup or _from(given))


def _from(given: Mapping[str, object]) -> Callable[[str, str], pulumi.Output[str]]:
    def lookup(app: str, key: str) -> pulumi.Output[str]:
        data = given[app]
        assert isinstance(data, Mapping)
        return pulumi.Output.secret(as_text(data[key]) or "")

    return lookup
