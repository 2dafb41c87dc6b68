"""infra/naming.py: every physical name fits its platform's limit once suffixed, logical names
match the URN snapshots, and the first name two places claim is found with both keys."""

from __future__ import annotations

from typing import Any

import pytest

from infra import naming
from infra.naming import physical_name
from infra.settings import COLORS, AppSettings
from tests.infra.config.cases import SECRETS, base, parsed


def test_budgets_follow_from_the_suffixes() -> None:
    longest_color = max(len(f"-{c}") for c in COLORS)
    smoke = len("-smoke") + longest_color + len("-") + 8
    assert (
        naming.DEPLOYMENT_PREFIX_MAX + max(longest_color, len(naming.INGRESS_SUFFIX), smoke) == 63
    )
    assert naming.SERVICE_NAME_MAX + len(naming.PREVIEW_SUFFIX) == 63
    assert naming.CONFIG_OBJECT_NAME_MAX + longest_color + naming.AUTONAME_SUFFIX == 63


def test_longest_allowed_names_still_fit_once_suffixed() -> None:
    raw = base()
    app = raw["apps"]["imageview"]
    app["deploymentName"] = "d" * naming.DEPLOYMENT_PREFIX_MAX
    app["service"] = {"name": "s" * naming.SERVICE_NAME_MAX}
    settings = parsed(raw).apps["imageview"]
    names = [
        *(naming.deployment(settings, c) for c in COLORS),
        naming.network_policy(settings),
        settings.service.name,
        settings.service.preview_name,
    ]
    assert all(naming.is_dns_label(n) for n in names), [n for n in names if len(n) > 63]


def test_logical_names_are_stable() -> None:
    """These are the names inside URNs: a change replaces live objects."""
    assert naming.deployment_resource("imageview", "blue") == "imageview-blue"
    assert naming.config_map_resource("projectid", "green") == "projectid-green"
    assert naming.secret_resource("apikey", "blue") == "apikey-blue"
    assert naming.live_service_resource("kubia") == "kubia-live"
    assert naming.preview_service_resource("kubia") == "kubia-preview"
    assert naming.network_policy_resource("kubia") == "kubia-ingress"


def test_dns_labels_are_full_matches() -> None:
    assert naming.is_dns_label("web-1")
    for bad in ("web\n", "1web", "web-", "Web", "", "a" * 64):
        assert not naming.is_dns_label(bad), repr(bad)


def _alone(name: str, app: dict[str, Any]) -> AppSettings:
    """``app`` parsed as the only app of a stack (so no clash is caught on the way)."""
    raw = base()
    raw["apps"] = {name: app}
    return parsed(raw, SECRETS if "secret" in app else None).apps[name]


def test_first_clash_names_both_keys() -> None:
    imageview = base()["apps"]["imageview"]
    other = {
        "source": "apps/kubia",
        "service": {"name": "other", "previewName": "webserver-preview"},
    }
    apps = {"imageview": _alone("imageview", imageview), "other": _alone("other", other)}
    clash = naming.first_clash(apps)
    assert clash is not None
    earlier, later = clash
    assert (earlier.kind, earlier.name, earlier.key) == (
        "Service",
        "webserver-preview",
        "apps.imageview.service.previewName",
    )
    assert later.key == "apps.other.service.previewName"
    assert naming.first_clash({"imageview": apps["imageview"]}) is None


@pytest.mark.parametrize(
    ("parts", "max_len", "expected_len"),
    [(("dev", "nodes"), 30, 9), (("a-very-long-cluster-name-for-a-team", "nodes"), 30, 30)],
)
def test_physical_names_fit_gcp_limits(
    parts: tuple[str, ...], max_len: int, expected_len: int
) -> None:
    name = physical_name(*parts, max_len=max_len, min_len=6)
    assert len(name) == expected_len
    assert name == physical_name(*parts, max_len=max_len, min_len=6), "stable"
    assert name[0].isalpha() and not name.endswith("-")


def test_long_names_stay_distinct() -> None:
    a = physical_name("team-platform-cluster-europe-west4-a", "nodes", max_len=30)
    b = physical_name("team-platform-cluster-europe-west4-b", "nodes", max_len=30)
    assert a != b and len(a) == len(b) == 30
