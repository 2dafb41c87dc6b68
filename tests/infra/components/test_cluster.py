"""infra/components/cluster.py: cluster without default pool, managed node pool,
least-privilege nodes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from infra.components.cluster import NODE_ROLE, kubeconfig
from infra.offline.mocks import is_secret
from infra.offline.program import Render
from tests.helpers import CLUSTER, NODE_POOL, one, plain

Renderer = Callable[..., Render]
GKE_STACKS = ["imageview", "dev", "prod"]


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_cluster_baseline(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    c = plain(one(r, CLUSTER, "gke-cluster"))
    assert c["removeDefaultNodePool"] is True
    assert c["enableLegacyAbac"] is False
    assert c["enableShieldedNodes"] is True
    assert c["masterAuth"]["clientCertificateConfig"] == {"issueClientCertificate": False}
    assert c["workloadIdentityConfig"] == {"workloadPool": f"{c['project']}.svc.id.goog"}
    assert c["loggingService"] == "logging.googleapis.com/kubernetes"
    assert c["monitoringService"] == "monitoring.googleapis.com/kubernetes"
    assert c["networkingMode"] == "VPC_NATIVE"
    assert c["datapathProvider"] == "ADVANCED_DATAPATH", "enforces the apps' NetworkPolicies"


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_nodes_never_run_as_the_compute_default_account(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    account = plain(one(r, "gcp:serviceaccount/account:Account", "gke-nodes"))
    email = f"{account['accountId']}@{account['project']}.iam.gserviceaccount.com"
    pool = plain(one(r, NODE_POOL, "gke-pool"))
    cluster = plain(one(r, CLUSTER, "gke-cluster"))
    for where, cfg in (("node pool", pool["nodeConfig"]), ("default pool", cluster["nodeConfig"])):
        assert cfg["serviceAccount"] == email, f"{stack} {where}: {cfg.get('serviceAccount')}"
        assert "compute@developer" not in cfg["serviceAccount"]
    role = plain(one(r, "gcp:projects/iAMMember:IAMMember", "gke-nodes-role"))
    assert role == {
        "project": account["project"],
        "role": NODE_ROLE,
        "member": f"serviceAccount:{email}",
    }
    node = pool["nodeConfig"]
    assert node["imageType"] == "COS_CONTAINERD"
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert node["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableIntegrityMonitoring": True,
    }
    assert node["metadata"] == {"disable-legacy-endpoints": "true"}


def test_private_nodes_with_authorized_networks(render_stack: Renderer) -> None:
    r = render_stack(
        "dev",
        [
            "cluster.privateNodes=true",
            "cluster.authorizedNetworks[0].cidrBlock=198.51.100.0/24",
            "cluster.authorizedNetworks[0].displayName=office",
        ],
    )
    c = plain(one(r, CLUSTER, "gke-cluster"))
    assert c["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": False,
        "masterIpv4CidrBlock": "172.16.0.0/28",
    }
    assert c["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "198.51.100.0/24", "displayName": "office"}]
    }
    nat = plain(one(r, "gcp:compute/routerNat:RouterNat", "gke-nat"))
    assert nat["region"] == "asia-northeast1"


def test_pinned_version_outside_a_channel(render_stack: Renderer) -> None:
    r = render_stack("imageview", ["cluster.version=1.33.5-gke.1201000"])
    c = plain(one(r, CLUSTER, "gke-cluster"))
    pool = plain(one(r, NODE_POOL, "gke-pool"))
    assert c["releaseChannel"] == {"channel": "UNSPECIFIED"}
    assert c["minMasterVersion"] == pool["version"] == "1.33.5-gke.1201000"


def test_kubeconfig_is_secret_and_has_no_static_credentials(render_stack: Renderer) -> None:
    r = render_stack("dev")
    assert is_secret(r.outputs["kubeconfig"])
    cfg = yaml.safe_load(kubeconfig("dev", "203.0.113.9", "Q0E="))
    (cluster,) = cfg["clusters"]
    assert cluster["cluster"]["server"] == "https://203.0.113.9"
    (user,) = cfg["users"]
    # Only the exec plugin: no token, client certificate or key, username or password.
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
