"""``apps.<app>.release``: what the release tool recorded as live, as the candidate and as the
previous color, each a pin (the color, the image it runs by digest, its config digest), the
candidate's share of requests on a canary app (``weight``), and how a pin is written back into the
stack file."""

from __future__ import annotations

import re
from typing import cast

from infra.config.reader import Node, boolean, choice, int_in, match
from infra.settings import COLORS, Color, ColorPin, ConfigError, ReleaseRecord

_DIGEST = re.compile(r"[0-9a-f]{64}")
#: An image reference by digest: what a GKE stack pins (a tag can be moved to other contents).
BY_DIGEST = re.compile(r"[a-z0-9]+([._/:-][a-zA-Z0-9_.-]+)*@sha256:[0-9a-f]{64}")


pinned_image = match(
    re.compile(BY_DIGEST.pattern + r"|([a-z0-9]+([._/-][a-zA-Z0-9_.-]+)*:)?src-[0-9a-f]{12}"),
    "an image reference pinned by digest (registry/name@sha256:<64 hex>) or by content tag "
    "([name:]src-<12 hex>, the local platform's images)",
)


config_digest = match(_DIGEST, "a config digest: 64 hex characters (written by infra.release)")


def _pin(node: Node) -> ColorPin | None:
    if not node.data:
        return None
    pin = ColorPin(
        color=cast(Color, node.require("color", choice(*COLORS), "blue or green")),
        image=node.require("image", pinned_image, "the image it runs, by digest"),
        config=node.require("config", config_digest, "its config digest"),
    )
    # Read by the release tool only: a digest of the color's encrypted secret copies.
    node.get("secrets", config_digest, None)
    node.done("color, image, config, secrets")
    return pin


def pin_entry(pin: ColorPin, secrets: str | None = None) -> dict[str, str]:
    """A release record's pin as the stack file holds it (what :func:`_pin` reads back);
    ``secrets`` is the digest of the color's own encrypted secret copies, when it has them."""
    entry = {"color": pin.color, "image": pin.image, "config": pin.config}
    if secrets:
        entry["secrets"] = secrets
    return entry


def read_release(node: Node) -> ReleaseRecord:
    """``release``: what the release tool recorded as live (and the color kept for rollback)."""
    record = ReleaseRecord(
        live=_pin(node.child("live")),
        candidate=_pin(node.child("candidate")),
        previous=_pin(node.child("previous")),
        allow_live_change=node.get("allowLiveChange", boolean, False),
        weight=node.get("weight", int_in(0, 100), 0),
    )
    node.done("live, candidate, previous, allowLiveChange, weight")
    if record.candidate and record.live and record.candidate.color == record.live.color:
        raise ConfigError(
            node.key("candidate.color"), record.candidate.color, "the other color than live's"
        )
    if record.previous and not record.live:
        raise ConfigError(node.key("previous"), "...", "only with a live record")
    if record.previous and record.live and record.previous.color == record.live.color:
        raise ConfigError(
            node.key("previous.color"), record.previous.color, "the other color than live's"
        )
    if record.weight and record.candidate is None:
        raise ConfigError(
            node.key("weight"),
            record.weight,
            "0 while no release runs: only a recorded candidate (release.candidate) gets a share",
        )
    return record
