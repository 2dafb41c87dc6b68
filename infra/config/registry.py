"""The ``registry`` section: where images are pushed and who may pull them."""

from __future__ import annotations

from typing import cast

from infra.config.cluster import REGION
from infra.config.reader import Node, boolean, choice, dns_label, string
from infra.naming import DNS_LABEL_MAX
from infra.settings import ConfigError, RegistryMode, RegistrySettings

MODES: tuple[RegistryMode, ...] = ("artifact", "gcr-domain", "legacy-bucket")
#: Artifact Registry multi-region locations (besides every region).
MULTI_REGIONS = ("us", "europe", "asia")


def parse(node: Node, region: str) -> RegistrySettings:
    """Reads ``registry``. Public read is off unless the stack opts in."""
    mode = cast(RegistryMode, node.get("mode", choice(*MODES), "artifact"))
    default_location = region if mode == "artifact" else "us"
    location = node.get("location", string, default_location)
    if location not in MULTI_REGIONS and not REGION.fullmatch(location):
        raise ConfigError(
            node.key("location"),
            location,
            "a region such as asia-northeast1, or one of us, europe, asia",
        )
    repository = node.get("repository", dns_label(DNS_LABEL_MAX), "apps")
    ubla = node.get("uniformBucketLevelAccess", boolean, False)
    if ubla and mode != "legacy-bucket":
        raise ConfigError(
            node.key("uniformBucketLevelAccess"), ubla, "only applies to mode legacy-bucket"
        )
    settings = RegistrySettings(
        mode=mode,
        location=location,
        repository="gcr.io" if mode != "artifact" else repository,
        public_read=node.get("publicRead", boolean, False),
        uniform_bucket_level_access=ubla,
    )
    node.done()
    return settings
