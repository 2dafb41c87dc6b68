"""infra/config/cluster.py: the cluster section's refusals and defaults."""

from __future__ import annotations

from tests.infra.config.cases import each_refused, gke_target, with_value

# (path, bad value, the key the error must name, words the error must contain)
BAD = [
    ("cluster.zone", "asia-northeast1", "cluster.zone", "GCP zone"),
    ("cluster.zone", "asia-northeast1-a\n", "cluster.zone", "control characters"),
    ("cluster.zone", "us-central1-a", "cluster.zone", "must be in region asia-northeast1"),
    ("cluster.machineType", "x9-standard-1", "cluster.machineType", "known families"),
    ("cluster.machineType", "n1standard1", "cluster.machineType", "machine type"),
    ("cluster.nodeCount", 0, "cluster.nodeCount", "from 1 to 1000"),
    ("cluster.nodeCount", "three", "cluster.nodeCount", "whole number"),
    ("cluster.nodeCount", 2.5, "cluster.nodeCount", "whole number"),
    ("cluster.nodeCount", float("nan"), "cluster.nodeCount", "whole number"),
    ("cluster.nodeCount", "9" * 5000, "cluster.nodeCount", "whole number"),
    ("cluster.nodeCount", 10**5000, "cluster.nodeCount", "number of about 5001 digits"),
    ("cluster.nodeCount", "3\n", "cluster.nodeCount", "whole number"),
    ("cluster.autoscaling", {"minNodes": 1}, "cluster.autoscaling", "both minNodes and maxNodes"),
    (
        "cluster",
        {"machineType": "e2-standard-2", "autoscaling": {"minNodes": 3, "maxNodes": 2}},
        "cluster.autoscaling.minNodes",
        "must not exceed maxNodes",
    ),
    (
        "cluster",
        {"nodeCount": 2, "autoscaling": {"minNodes": 1, "maxNodes": 2}},
        "cluster.nodeCount",
        "either nodeCount or autoscaling",
    ),
    ("cluster.releaseChannel", "BETA", "cluster.releaseChannel", "RAPID, REGULAR"),
    ("cluster.releaseChannel", "STABLE\n", "cluster.releaseChannel", "RAPID, REGULAR"),
    ("cluster.autoUpgrade", False, "cluster.releaseChannel", "UNSPECIFIED"),
    ("cluster.spot", "yes", "cluster.spot", "true or false"),
    ("cluster.masterCidr", "10.0.0.0/24", "cluster.masterCidr", "/28"),
    ("cluster.version", "1.32\n", "cluster.version", "control characters"),
    ("cluster.version", "1.32.x", "cluster.version", "GKE version"),
    (
        "cluster.authorizedNetworks",
        [{"cidrBlock": "300.1.1.0/24"}],
        "cluster.authorizedNetworks[0].cidrBlock",
        "IPv4 CIDR",
    ),
    ("cluster.authorizedNetworks", "10.0.0.0/8", "cluster.authorizedNetworks", "a list of"),
    ("cluster.name", "Image_View", "cluster.name", "lower-case"),
    ("cluster.name", "imageview\n", "cluster.name", "control characters"),
    ("cluster.name", "a" * 41, "cluster.name", "at most 40"),
    ("cluster.nodes", 3, "cluster.nodes", "unknown key"),
]


test_bad_value_names_key_value_and_what_is_allowed = each_refused(BAD)


def test_defaults_are_pinned() -> None:
    """What a stack gets when it says nothing: a change here is a change for every user."""
    c = gke_target().cluster
    assert (c.name, c.location, c.zonal, c.disk_size_gb, c.spot) == (
        "test",
        "asia-northeast1-a",
        True,
        50,
        False,
    )
    assert (c.auto_repair, c.auto_upgrade, c.release_channel) == (True, True, "REGULAR")
    assert (c.deletion_protection, c.private_nodes, c.authorized_networks) == (True, False, ())
    assert (c.machine_type, c.node_count, c.master_cidr) == ("n1-standard-1", 3, "172.16.0.0/28")


def test_strings_from_the_cli_are_typed() -> None:
    """`pulumi config set --path` may store "3" and "true" as strings."""
    raw = with_value("cluster.nodeCount", "3")
    raw["cluster"]["spot"] = "true"
    c = gke_target(raw).cluster
    assert (c.node_count, c.spot) == (3, True)


def test_regional_without_a_zone() -> None:
    c = gke_target(with_value("cluster.zone", None)).cluster
    assert (c.location, c.zonal) == ("asia-northeast1", False)
