"""infra/components/registry.py: repository, node read access, public read only on opt-in,
legacy ACLs."""

from __future__ import annotations

from collections.abc import Callable

from infra.offline.program import Render
from tests.helpers import plain

Renderer = Callable[..., Render]
AR_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
BUCKET_ACL = "gcp:storage/bucketAccessControl:BucketAccessControl"
DEFAULT_ACL = "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
DYNAMIC = "pulumi-python:dynamic/gcs_acl:ObjectAclGrant"


def members(r: Render, typ: str) -> list[str]:
    return sorted(str(plain(x).get("member") or plain(x).get("entity")) for x in r.of_type(typ))


def test_artifact_registry_private_by_default(render_stack: Renderer) -> None:
    r = render_stack("prod")
    (repo,) = r.of_type("gcp:artifactregistry/repository:Repository")
    assert plain(repo)["format"] == "DOCKER"
    assert plain(repo)["location"] == "asia-northeast1"
    assert members(r, AR_MEMBER) == [
        "serviceAccount:prod-nodes@gke-bluegreen-prod.iam.gserviceaccount.com"
    ]
    assert r.outputs["registry_url"] == "asia-northeast1-docker.pkg.dev/gke-bluegreen-prod/apps"


def test_public_read_only_when_opted_in(render_stack: Renderer) -> None:
    r = render_stack("dev")
    assert "allUsers" in members(r, AR_MEMBER)
    public = [plain(x) for x in r.of_type(AR_MEMBER) if plain(x)["member"] == "allUsers"]
    assert public == [
        {
            "project": "gke-bluegreen-dev",
            "location": "asia-northeast1",
            "repository": "apps",
            "role": "roles/artifactregistry.reader",
            "member": "allUsers",
        }
    ]


def test_gcr_domain_repository(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    (repo,) = r.of_type("gcp:artifactregistry/repository:Repository")
    assert (plain(repo)["repositoryId"], plain(repo)["location"]) == ("gcr.io", "us")
    assert r.outputs["registry_url"] == "gcr.io/hello-docker"


def test_legacy_bucket_acls_are_s1(render_stack: Renderer) -> None:
    r = render_stack("dev", ["registry.mode=legacy-bucket", "registry.location=us"])
    bucket = "artifacts.gke-bluegreen-dev.appspot.com"
    assert not r.of_type("gcp:artifactregistry/repository:Repository")
    (acl,) = r.of_type(BUCKET_ACL)
    (default,) = r.of_type(DEFAULT_ACL)
    assert plain(acl) == {"bucket": bucket, "entity": "allUsers", "role": "READER"}
    assert plain(default) == {"bucket": bucket, "entity": "allUsers", "role": "READER"}
    assert members(r, BUCKET_IAM) == [
        "serviceAccount:dev-nodes@gke-bluegreen-dev.iam.gserviceaccount.com"
    ]
    assert r.outputs["registry_url"] == "gcr.io/gke-bluegreen-dev"
    # S1's recursive `acl ch -r`: the objects already there, after both ACL resources.
    (grant,) = r.of_type(DYNAMIC)
    assert grant.name == "registry-public-objects"
    assert {k: plain(grant)[k] for k in ("bucket", "entity", "role", "prefix")} == {
        "bucket": bucket,
        "entity": "allUsers",
        "role": "READER",
        "prefix": "",
    }
    assert {acl.urn, default.urn} <= set(grant.dependencies)
    assert grant.parent and grant.parent.endswith("gke-bluegreen:infra:Registry::registry")


def test_legacy_bucket_with_uniform_access_uses_iam(render_stack: Renderer) -> None:
    r = render_stack(
        "dev", ["registry.mode=legacy-bucket", "registry.uniformBucketLevelAccess=true"]
    )
    assert not r.of_type(BUCKET_ACL) and not r.of_type(DEFAULT_ACL)
    assert not r.of_type(DYNAMIC), "no ACLs to grant under uniform bucket-level access"
    public = [plain(x) for x in r.of_type(BUCKET_IAM) if plain(x)["member"] == "allUsers"]
    assert public == [
        {
            "bucket": "artifacts.gke-bluegreen-dev.appspot.com",
            "role": "roles/storage.objectViewer",
            "member": "allUsers",
        }
    ]


def test_legacy_bucket_private_has_no_public_grant(render_stack: Renderer) -> None:
    r = render_stack("dev", ["registry.mode=legacy-bucket", "registry.publicRead=false"])
    assert not r.of_type(BUCKET_ACL) and not r.of_type(DEFAULT_ACL) and not r.of_type(DYNAMIC)
    assert "allUsers" not in members(r, BUCKET_IAM)
