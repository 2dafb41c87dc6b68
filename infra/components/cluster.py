"""The GKE cluster, its separately managed node pool, and the Kubernetes provider for it.

The default node pool is removed at creation and one node pool is managed on its own, so node
settings change without touching the control plane. Nodes run as a dedicated least-privilege
service account, never the Compute Engine default one (which has project Editor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import naming
from infra.settings import ClusterSettings

#: GKE's least-privilege role for node service accounts (logs, metrics, metadata).
NODE_ROLE = "roles/container.defaultNodeServiceAccount"
#: COS with containerd: the only Container-Optimized OS image GKE offers.
IMAGE_TYPE = "COS_CONTAINERD"
#: What the nodes' access tokens may ask for; their service account's roles decide what they get.
NODE_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
#: The Gateway API channel a stack with a canary app serves: standard, the CRDs vendored in
#: vendor/gateway-api (the experimental channel's fields are not GA and GKE may drop them).
GATEWAY_API_CHANNEL = "CHANNEL_STANDARD"


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    """Inputs of :class:`Cluster`."""

    settings: ClusterSettings
    """Validated cluster settings."""
    project: str
    """GCP project id."""
    region: str
    """GCP region (Cloud NAT for private nodes lives here)."""
    labels: dict[str, str]
    """Labels on the cluster and nodes."""
    keep: bool
    """Protect the cluster in Pulumi (``protect``): no ``pulumi destroy`` and no replacement
    while it is set. Not ``retain_on_delete``: everything on the cluster is declared by this
    program and its stack config (no PersistentVolumes), and a retained cluster would keep
    running, billed, out of the state, its fixed name blocking the next one."""
    after: Sequence[pulumi.Resource] = ()
    """What every child waits for (the project's APIs). A component's own ``depends_on`` does not
    reach its children."""
    gateway_api: bool = False
    """Serve the Gateway API (the standard channel's CRDs, GKE's Gateway controller): the stack
    has a canary app."""


class Cluster(pulumi.ComponentResource):
    """GKE cluster + node pool + node service account + kubeconfig + Kubernetes provider."""

    name: pulumi.Output[str]
    """Cluster name."""
    endpoint: pulumi.Output[str]
    """Control plane address."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig using gke-gcloud-auth-plugin (secret)."""
    node_service_account: pulumi.Output[str]
    """Email of the nodes' service account."""
    provider: k8s.Provider
    """The provider every Kubernetes resource of this stack uses."""

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        account, role = self._node_identity(name, args, child)
        cluster = self._control_plane(name, args, account, role, child)
        self._node_pool(name, args, cluster, account, child)

        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.node_service_account = account.email
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
            ).apply(lambda a: kubeconfig(str(a[0]), str(a[1]), str(a[2])))
        )
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True, opts=child
        )
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "node_service_account": self.node_service_account,
            }
        )

    def _node_identity(
        self, name: str, args: ClusterArgs, child: pulumi.ResourceOptions
    ) -> tuple[gcp.serviceaccount.Account, gcp.projects.IAMMember]:
        """The nodes' own service account and its one project role."""
        cluster_name = args.settings.name
        account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            project=args.project,
            account_id=naming.node_service_account_id(cluster_name),
            display_name=f"GKE nodes of {cluster_name}",
            opts=child,
        )
        member = pulumi.Output.concat("serviceAccount:", account.email)
        role = gcp.projects.IAMMember(
            f"{name}-nodes-role", project=args.project, role=NODE_ROLE, member=member, opts=child
        )
        return account, role

    def _control_plane(
        self,
        name: str,
        args: ClusterArgs,
        account: gcp.serviceaccount.Account,
        role: gcp.projects.IAMMember,
        child: pulumi.ResourceOptions,
    ) -> gcp.container.Cluster:
        """The cluster itself, created with no node pool of its own (and Cloud NAT first when its
        nodes are private). It waits for the nodes' role, so no node starts without it."""
        s = args.settings
        if s.private_nodes:
            self._cloud_nat(name, args, child)
        return gcp.container.Cluster(
            f"{name}-cluster",
            name=s.name,
            project=args.project,
            location=s.location,
            # The default pool is created then removed; give it the dedicated account too so
            # not even that short-lived pool runs as the Compute default service account.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config={
                "service_account": account.email,
                "oauth_scopes": NODE_SCOPES,
                "image_type": IMAGE_TYPE,
            },
            networking_mode="VPC_NATIVE",
            # Dataplane V2 (eBPF) enforces the apps' NetworkPolicies; it can only be chosen
            # when a cluster is created.
            datapath_provider="ADVANCED_DATAPATH",
            ip_allocation_policy={},
            release_channel={"channel": s.release_channel},
            min_master_version=s.version,
            workload_identity_config={"workload_pool": f"{args.project}.svc.id.goog"},
            # GKE installs and upgrades the standard channel's Gateway API CRDs and runs the
            # controller that turns a Gateway into a load balancer.
            gateway_api_config={"channel": GATEWAY_API_CHANNEL} if args.gateway_api else None,
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            logging_service="logging.googleapis.com/kubernetes",
            monitoring_service="monitoring.googleapis.com/kubernetes",
            private_cluster_config=_private_cluster(s),
            master_authorized_networks_config=_authorized_networks(s),
            deletion_protection=s.deletion_protection,
            resource_labels=args.labels,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*args.after, role], protect=args.keep
            ),
        )

    def _node_pool(
        self,
        name: str,
        args: ClusterArgs,
        cluster: gcp.container.Cluster,
        account: gcp.serviceaccount.Account,
        child: pulumi.ResourceOptions,
    ) -> gcp.container.NodePool:
        """The one node pool, managed apart from the control plane."""
        s = args.settings
        return gcp.container.NodePool(
            f"{name}-pool",
            name=naming.node_pool(s.name),
            project=args.project,
            location=s.location,
            cluster=cluster.name,
            node_count=s.node_count,
            autoscaling=_autoscaling(s),
            version=s.version if s.release_channel == "UNSPECIFIED" else None,
            management={"auto_repair": s.auto_repair, "auto_upgrade": s.auto_upgrade},
            upgrade_settings={"max_surge": 1, "max_unavailable": 0},
            node_config=_node_config(s, account.email, args.labels),
            opts=child,
        )

    def _cloud_nat(self, name: str, args: ClusterArgs, child: pulumi.ResourceOptions) -> None:
        """Private nodes have no public IP; Cloud NAT gives them egress."""
        router = gcp.compute.Router(
            f"{name}-router",
            project=args.project,
            region=args.region,
            network="default",
            opts=child,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            project=args.project,
            region=args.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=child,
        )


def _node_config(
    s: ClusterSettings, account: pulumi.Input[str], labels: dict[str, str]
) -> gcp.container.NodePoolNodeConfigArgs:
    """The pool's nodes: the dedicated account, shielded, Workload Identity's metadata server."""
    return gcp.container.NodePoolNodeConfigArgs(
        service_account=account,
        oauth_scopes=NODE_SCOPES,
        image_type=IMAGE_TYPE,
        machine_type=s.machine_type,
        disk_size_gb=s.disk_size_gb,
        disk_type="pd-balanced",
        spot=s.spot,
        labels=labels,
        metadata={"disable-legacy-endpoints": "true"},
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"
        ),
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
    )


def _private_cluster(s: ClusterSettings) -> gcp.container.ClusterPrivateClusterConfigArgs | None:
    """Private nodes (no public IPs) behind a public control plane endpoint, when asked for."""
    if not s.private_nodes:
        return None
    return gcp.container.ClusterPrivateClusterConfigArgs(
        enable_private_nodes=True,
        enable_private_endpoint=False,
        master_ipv4_cidr_block=s.master_cidr,
    )


def _authorized_networks(
    s: ClusterSettings,
) -> gcp.container.ClusterMasterAuthorizedNetworksConfigArgs | None:
    """Who may reach the control plane, when the stack names networks."""
    if not s.authorized_networks:
        return None
    return gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
        cidr_blocks=[
            gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                cidr_block=n.cidr_block, display_name=n.display_name
            )
            for n in s.authorized_networks
        ]
    )


def _autoscaling(s: ClusterSettings) -> gcp.container.NodePoolAutoscalingArgs | None:
    """The pool's size range, when the stack sets one (else ``nodeCount`` fixes it)."""
    if s.min_nodes is None:
        return None
    return gcp.container.NodePoolAutoscalingArgs(
        min_node_count=s.min_nodes, max_node_count=s.max_nodes
    )


def kubeconfig(name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig that authenticates with ``gke-gcloud-auth-plugin`` (no static credentials)."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: {name}
  cluster:
    certificate-authority-data: {ca_certificate}
    server: https://{endpoint}
contexts:
- name: {name}
  context:
    cluster: {name}
    user: {name}
current-context: {name}
users:
- name: {name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)
      provideClusterInfo: true
"""
