"""infra/config/registry.py: the registry section's refusals and defaults."""

from __future__ import annotations

import pytest

from tests.infra.config.cases import each_refused, gke_target, with_value

BAD = [
    ("registry", {"mode": "dockerhub"}, "registry.mode", "artifact, gcr-domain, legacy-bucket"),
    ("registry", {"mode": "artifact\n"}, "registry.mode", "artifact, gcr-domain"),
    (
        "registry",
        {"uniformBucketLevelAccess": True},
        "registry.uniformBucketLevelAccess",
        "legacy-bucket",
    ),
    ("registry", {"location": "mars"}, "registry.location", "us, europe, asia"),
    ("registry", {"location": "asia-northeast1\n"}, "registry.location", "control characters"),
    ("registry", {"repository": "Apps"}, "registry.repository", "lower-case"),
    ("registry", {"publicRead": "yes"}, "registry.publicRead", "true or false"),
    ("registry", {"public": True}, "registry.public", "unknown key"),
]


test_bad_value_names_key_value_and_what_is_allowed = each_refused(BAD)


def test_defaults_are_pinned() -> None:
    r = gke_target().registry
    assert (r.mode, r.location, r.repository, r.public_read, r.uniform_bucket_level_access) == (
        "artifact",
        "asia-northeast1",
        "apps",
        False,
        False,
    )
    assert r.url("p-1") == "asia-northeast1-docker.pkg.dev/p-1/apps"


@pytest.mark.parametrize("mode", ["gcr-domain", "legacy-bucket"])
def test_gcr_modes_serve_gcr_io(mode: str) -> None:
    r = gke_target(with_value("registry", {"mode": mode})).registry
    assert (r.location, r.repository, r.url("p-1"), r.host("p-1")) == (
        "us",
        "gcr.io",
        "gcr.io/p-1",
        "gcr.io",
    )
