"""Physical names for cloud resources, computed once and checked against the platform's limits.

GCP and Kubernetes each cap name lengths and alphabets. Every physical name the program creates
comes from :func:`physical_name`, so a long project or stack name is shortened the same way
everywhere (a stable hash suffix keeps shortened names unique) instead of failing at apply time.
"""

from __future__ import annotations

import hashlib
import re

#: Longest service account id GCP accepts (``accountId``: 6 to 30 characters).
SERVICE_ACCOUNT_ID_MAX = 30
#: Longest GKE cluster and node pool name.
GKE_NAME_MAX = 40
#: Longest Kubernetes object name that is also a DNS-1123 label (Services, label values).
DNS_LABEL_MAX = 63

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def is_dns_label(value: str, max_len: int = DNS_LABEL_MAX) -> bool:
    """True when ``value`` is a lower-case DNS-1123 label starting with a letter, within max_len."""
    return len(value) <= max_len and bool(_DNS_LABEL.match(value))


def physical_name(*parts: str, max_len: int, min_len: int = 1) -> str:
    """Join ``parts`` with hyphens into a DNS-label-shaped name of at most ``max_len`` characters.

    Characters outside ``[a-z0-9-]`` become hyphens. When the joined name is too long, it is cut
    and ends in a 6-character hash of the full name, so two long names that share a prefix stay
    distinct and the same inputs always give the same name.
    """
    joined = "-".join(p for p in parts if p)
    clean = re.sub(r"[^a-z0-9-]+", "-", joined.lower())
    clean = re.sub(r"-{2,}", "-", clean).strip("-")
    if not clean or not clean[0].isalpha():
        clean = f"x-{clean}".rstrip("-")
    if len(clean) > max_len:
        digest = hashlib.sha256(joined.encode()).hexdigest()[:6]
        clean = f"{clean[: max_len - 7].rstrip('-')}-{digest}"
    if len(clean) < min_len:
        clean = f"{clean}-{'0' * min_len}"[:min_len]
    return clean
