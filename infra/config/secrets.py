"""The ``secrets`` key: the values of each app's Secret, ``secrets.<app>.<key>``.

Only the shape is checked here (which apps, which keys, that each value is set); no error ever shows
a value, not even a wrong one. The values themselves leave only as secret Outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pulumi

from infra.config import kubernetes
from infra.settings import COLORS, PROJECT, AppSettings, ConfigError, SecretValues

#: The top-level key that holds every app secret; the only key that may be set with --secret.
KEY = "secrets"
#: :data:`KEY` as the stack file and the engine name it.
FULL_KEY = f"{PROJECT}:{KEY}"
#: Where the apps, and so the keys each app's Secret declares, live.
_APPS_KEY = f"{PROJECT}:apps"


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


#: Under ``secrets.<app>``, the per-color copies the release tool pins: ``colors.<color>.<key>``.
COLORS_KEY = "colors"


def declared_keys(config: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """The keys each app's Secret declares (``apps.<app>.secret.keys``), by app in file order.

    ``config`` is a stack's config by full key (``gke-bluegreen:apps``) as the stack file holds it,
    before :func:`parse`: the doctor and the offline render read it there. An app whose entry does
    not have that shape is left out, and so is a key that is not text; :func:`parse` refuses both
    with the key's name.
    """
    apps = config.get(_APPS_KEY)
    if not isinstance(apps, Mapping):
        return {}
    declared: dict[str, tuple[str, ...]] = {}
    for app, spec in apps.items():
        secret = spec.get("secret") if isinstance(spec, Mapping) else None
        keys = secret.get("keys") if isinstance(secret, Mapping) else None
        if isinstance(keys, list):
            declared[app] = tuple(k for k in keys if isinstance(k, str))
    return declared


def stored(config: Mapping[str, object], app: str, key: str) -> object:
    """What ``config`` (as for :func:`declared_keys`) holds at ``secrets.<app>.<key>``: the
    value as the stack file has it (an encrypted one is its ``{secure: ...}`` object), None when
    it is unset."""
    values = config.get(FULL_KEY)
    for name in (app, key):
        values = values.get(name) if isinstance(values, Mapping) else None
    return values


def with_placeholders(config: Mapping[str, object]) -> dict[str, object] | None:
    """The ``secrets`` object of ``config`` (as for :func:`declared_keys`, encrypted values
    dropped) with a placeholder for every declared key that has no value, at the app's level and
    in each color's copy: what the offline render gives the program in place of values it cannot
    decrypt. None when ``secrets`` is not an object; values of another wrong shape are left as they
    are, for :func:`parse` to refuse."""
    given = config.get(FULL_KEY) or {}
    if not isinstance(given, Mapping):
        return None
    filled = dict(given)
    for app, keys in declared_keys(config).items():
        current = filled.get(app, {})
        if not isinstance(current, Mapping):
            continue
        current = dict(current)
        for key in keys:
            current.setdefault(key, _placeholder(app, key))
        copies = current.get(COLORS_KEY)
        if isinstance(copies, Mapping):
            current[COLORS_KEY] = {
                color: {**{k: _placeholder(app, k) for k in keys}, **copy}
                if isinstance(copy, Mapping)
                else copy
                for color, copy in copies.items()
            }
        filled[app] = current
    return filled


def _placeholder(app: str, key: str) -> str:
    return f"placeholder-{app}-{key}"


def parse(
    raw: object,
    apps: Mapping[str, AppSettings],
    lookup: Callable[[str, str, str | None], pulumi.Output[str]] | None = None,
) -> SecretValues:
    """Checks ``raw`` (the decoded ``secrets`` object) against the Secrets the apps declare.

    ``secrets.<app>.<key>`` are the app's values; ``secrets.<app>.colors.<color>.<key>`` a color's
    own copy (the release tool pins the live color to one, so a new value reaches only the idle
    color). ``lookup(app, key, color)`` gives a value as a secret Output when the program needs it
    (``color`` None for the app-level value); by default it is taken from ``raw`` itself (the
    offline render and unit tests).
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
    own: dict[str, tuple[str, ...]] = {}
    for app in apps.values():
        if app.secret is None:
            continue
        data = dict(given.get(app.name) or {})  # type: ignore[call-overload]
        copies = data.pop(COLORS_KEY, None) or {}
        where = f"{KEY}.{app.name}"
        _check_keys(where, data, app.secret.keys, app.name, "")
        _check_size(where, data, app, "")
        if not isinstance(copies, Mapping):
            raise ConfigError(f"{where}.{COLORS_KEY}", copies, "expected blue/green", secret=True)
        for color, copy in copies.items():
            if color not in COLORS or not isinstance(copy, Mapping):
                raise ConfigError(
                    f"{where}.{COLORS_KEY}.{color}",
                    copy,
                    "a color's copy: blue or green, an object of keys",
                    secret=True,
                )
            scope = f"{COLORS_KEY}.{color}."
            _check_keys(f"{where}.{scope[:-1]}", copy, app.secret.keys, app.name, scope)
            _check_size(f"{where}.{scope[:-1]}", copy, app, f"the {color} color's ")
        keys[app.name] = app.secret.keys
        own[app.name] = tuple(c for c in COLORS if c in copies)
    return SecretValues(keys, lookup or _from(given), own)


def _check_keys(
    where: str, data: Mapping[str, object], declared: tuple[str, ...], app: str, scope: str
) -> None:
    """Every declared key set (non-empty), no other; ``scope`` is the path below
    ``secrets.<app>`` ("" for the app-level values, ``colors.blue.`` for a copy)."""
    extra = sorted(set(data) - set(declared))
    if extra:
        raise ConfigError(
            f"{where}.{extra[0]}",
            data[extra[0]],
            f"allowed keys: {', '.join(declared)}",
            secret=True,
        )
    for key in declared:
        value = data.get(key)
        if as_text(value) is None:
            raise ConfigError(
                f"{where}.{key}",
                value,
                "a non-empty value is required; set it with: " + set_command(app, scope + key),
                secret=True,
            )


def _check_size(where: str, data: Mapping[str, object], app: AppSettings, whose: str) -> None:
    """The values (already checked as text) must fit in one Secret."""
    assert app.secret is not None
    too_big = kubernetes.data_size_problem(
        kubernetes.data_size(as_text(data[key]) or "" for key in app.secret.keys)
    )
    if too_big:
        raise ConfigError(
            where,
            data,
            f"{whose}Secret {app.secret.name} of app {app.name} would hold {too_big}",
            secret=True,
        )


def _from(given: Mapping[str, object]) -> Callable[[str, str, str | None], pulumi.Output[str]]:
    def lookup(app: str, key: str, color: str | None) -> pulumi.Output[str]:
        data = given[app]
        assert isinstance(data, Mapping)
        if color is not None:
            data = data[COLORS_KEY][color]
        return pulumi.Output.secret(as_text(data[key]) or "")

    return lookup
