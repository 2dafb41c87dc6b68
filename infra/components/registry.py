"""The container registry, the node pool's read access to it, and optional public read.

Three modes (``registry.mode``):

* ``artifact`` — an Artifact Registry Docker repository
  ``<location>-docker.pkg.dev/<project>/<repo>``.
* ``gcr-domain`` — the Artifact Registry repository named ``gcr.io`` (location ``us``) that serves
  ``gcr.io/<project>/...`` (Container Registry is shut down).
* ``legacy-bucket`` — the labs' Container Registry storage bucket
  ``artifacts.<project>.appspot.com``: public read is S1's ``gsutil acl ch`` (bucket ACL) and
  ``defacl ch`` (default object ACL), or an IAM grant when uniform bucket-level access is on.

Public read (``allUsers``) is created only when the stack sets ``registry.publicRead``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.gcs_acl.resource import ObjectAclGrant, ObjectAclGrantArgs
from infra.settings import RegistrySettings

ALL_USERS = "allUsers"
AR_READER = "roles/artifactregistry.reader"
GCS_OBJECT_VIEWER = "roles/storage.objectViewer"


def legacy_bucket_name(project: str) -> str:
    """The bucket Container Registry kept ``gcr.io/<project>`` layers in."""
    return f"artifacts.{project}.appspot.com"


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    """Inputs of :class:`Registry`."""

    settings: RegistrySettings
    """Validated registry settings."""
    project: str
    """GCP project id."""
    reader_service_account: pulumi.Input[str]
    """Email of the node pool's service account, granted pull access."""
    labels: dict[str, str]
    """Labels put on the repository."""
    keep: bool
    """Protect the repository in Pulumi (``protect``) and leave it in GCP when it leaves the
    stack (``retain_on_delete``): it holds every release's images, the digests the live color
    and a rollback pin included, which no rebuild reproduces (a rebuild gets a new digest)."""
    after: Sequence[pulumi.Resource] = ()
    """What every child waits for (the project's APIs)."""


class Registry(pulumi.ComponentResource):
    """Where app images live, who may pull them."""

    url: pulumi.Output[str]
    """Image name prefix, e.g. ``asia-northeast1-docker.pkg.dev/p/apps`` or ``gcr.io/p``."""
    host: pulumi.Output[str]
    """Registry host to log in to."""
    public: pulumi.Output[bool]
    """True when anyone may pull."""

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        s = args.settings
        reader = pulumi.Output.concat("serviceAccount:", args.reader_service_account)

        if s.mode == "legacy-bucket":
            self._legacy_bucket(name, args, reader, child)
            url = pulumi.Output.from_input(s.url(args.project))
        else:
            repo = gcp.artifactregistry.Repository(
                f"{name}-repo",
                project=args.project,
                location=s.location,
                repository_id=s.repository,
                format="DOCKER",
                description=f"Container images of gke-bluegreen ({pulumi.get_stack()})",
                labels=args.labels,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(protect=args.keep, retain_on_delete=args.keep)
                ),
            )
            readers: dict[str, pulumi.Input[str]] = {"node-reader": reader}
            if s.public_read:
                readers["public-read"] = ALL_USERS
            for suffix, member in readers.items():
                gcp.artifactregistry.RepositoryIamMember(
                    f"{name}-{suffix}",
                    project=args.project,
                    location=repo.location,
                    repository=repo.repository_id,
                    role=AR_READER,
                    member=member,
                    opts=child,
                )
            # Derive the URL from the repository so images wait for it to exist.
            url = repo.repository_id.apply(lambda _: s.url(args.project))

        self.url = url
        self.host = pulumi.Output.from_input(s.host(args.project))
        self.public = pulumi.Output.from_input(s.public_read)
        self.register_outputs({"url": self.url, "host": self.host, "public": self.public})

    def _legacy_bucket(
        self,
        name: str,
        args: RegistryArgs,
        reader: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """S1's bucket permissions. The bucket itself was created by Container Registry."""
        bucket = legacy_bucket_name(args.project)
        gcp.storage.BucketIAMMember(
            f"{name}-node-reader", bucket=bucket, role=GCS_OBJECT_VIEWER, member=reader, opts=child
        )
        if not args.settings.public_read:
            return
        if args.settings.uniform_bucket_level_access:
            # With uniform bucket-level access ACLs are disabled; IAM is the only switch.
            gcp.storage.BucketIAMMember(
                f"{name}-public-read",
                bucket=bucket,
                role=GCS_OBJECT_VIEWER,
                member=ALL_USERS,
                opts=child,
            )
            return
        # gsutil acl ch -u AllUsers:R gs://artifacts.<project>.appspot.com
        bucket_acl = gcp.storage.BucketAccessControl(
            f"{name}-public-bucket-acl", bucket=bucket, entity=ALL_USERS, role="READER", opts=child
        )
        # gsutil defacl ch -u AllUsers:R gs://artifacts.<project>.appspot.com
        default_acl = gcp.storage.DefaultObjectAccessControl(
            f"{name}-public-default-object-acl",
            bucket=bucket,
            entity=ALL_USERS,
            role="READER",
            opts=child,
        )
        # gsutil acl ch -r -u AllUsers:R gs://artifacts.<project>.appspot.com: the objects that
        # exist already (new ones inherit the default object ACL above).
        ObjectAclGrant(
            f"{name}-public-objects",
            ObjectAclGrantArgs(
                bucket=bucket, project=args.project, entity=ALL_USERS, role="READER"
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*args.after, bucket_acl, default_acl]
            ),
        )
