"""Every policy rule over every stack's offline render: all stacks pass, bad configs fail."""

from __future__ import annotations

import subprocess
import sys

import pytest

from policy.offline import Render, evaluate, load_render
from policy.rules.model import REPOSITORY, Level
from tests.delivery.renders import ROOT, render, stacks


@pytest.mark.parametrize("stack", stacks())
def test_every_stack_passes_every_rule(stack: str) -> None:
    r = load_render(render(stack))
    assert r.ctx.stack == stack
    assert r.resources, "the render registered no resources"
    findings = evaluate(r)
    assert findings == [], "\n".join(str(f) for f in findings)


# A deliberately bad config per mandatory rule that a stack setting can break, with the message
# the rule must give.
BAD = [
    (
        "prod",
        ["registry.publicRead=true"],
        "registry-no-public-read",
        "public registry read is never allowed on stack 'prod'",
    ),
    (
        "prod",
        ["cluster.deletionProtection=false"],
        "prod-deletion-protection",
        "deletionProtection: false on stack 'prod'",
    ),
    (
        "prod",
        ["cluster.deletionProtection=false"],
        "prod-stateful-kept",
        "cluster on stack 'prod' lacks protect",
    ),
    (
        "dev",
        ["registry.publicRead=false", "apps.kubia.colors.blue.image=gcr.io/p/kubia:v1"],
        "image-by-digest",
        "image 'gcr.io/p/kubia:v1' is not pinned by digest",
    ),
]


@pytest.mark.parametrize(("stack", "sets", "rule", "message"), BAD, ids=str)
def test_bad_config_fails_with_the_rules_message(
    stack: str, sets: list[str], rule: str, message: str | None
) -> None:
    if stack not in stacks():
        pytest.skip(f"no stack {stack}")
    findings = evaluate(load_render(render(stack, sets)))
    hits = [f for f in findings if f.rule == rule and f.level is Level.MANDATORY]
    assert hits, f"{rule} did not fire for {sets}: {[str(f) for f in findings]}"
    if message:
        assert any(message in f.message for f in hits), [f.message for f in hits]


@pytest.mark.parametrize(
    ("option", "lacking"), [("protect", "protect and retainOnDelete"), ("retainOnDelete", "")]
)
def test_a_prod_render_whose_registry_would_not_be_kept_fails(option: str, lacking: str) -> None:
    # What only the offline runner sees: a render's options, retainOnDelete included.
    if "prod" not in stacks():
        pytest.skip("no stack prod")
    r = load_render(render("prod"))
    (repo,) = [x for x in r.resources if x["type"] == REPOSITORY]
    assert repo["options"] == {"protect": True, "retainOnDelete": True}
    options = {"protect": False, "retainOnDelete": False} if lacking else {option: False}
    broken = [
        {**x, "options": {**x["options"], **options}} if x is repo else x for x in r.resources
    ]
    (finding,) = evaluate(Render(ctx=r.ctx, resources=broken))
    assert (finding.rule, finding.level, finding.urn) == (
        "prod-stateful-kept",
        Level.MANDATORY,
        repo["urn"],
    )
    assert f"lacks {lacking or option}:" in finding.message


def test_public_read_in_dev_is_allowed_only_because_dev_opts_in() -> None:
    # dev opts in (S1's public images); the same grant without the opt-in must fail.
    if "dev" not in stacks():
        pytest.skip("no stack dev")
    assert evaluate(load_render(render("dev", ["registry.publicRead=true"]))) == []


def test_offline_cli_exit_codes() -> None:
    good = render("imageview")
    bad = render("prod", ["registry.publicRead=true"])
    run = [sys.executable, "-m", "policy.offline"]
    ok = subprocess.run([*run, str(good)], cwd=ROOT, check=False, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    fail = subprocess.run(
        [*run, str(good), str(bad)], cwd=ROOT, check=False, capture_output=True, text=True
    )
    assert fail.returncode == 1 and "[mandatory] registry-no-public-read" in fail.stdout
    missing = subprocess.run(
        [*run, str(ROOT / "no-such-render")], cwd=ROOT, check=False, capture_output=True, text=True
    )
    assert missing.returncode == 2 and "not a readable render" in missing.stderr


@pytest.mark.parametrize("stack", [s for s in ("prod", "imageview") if s in stacks()])
def test_cutover_to_the_other_color_still_passes_every_rule(stack: str) -> None:
    # What the cutover workflow's validate job checks before it asks for approval.
    base = load_render(render(stack))
    apps = base.ctx.get("apps") or {}
    assert apps, f"stack {stack} declares no apps"
    for app in apps:
        live = base.ctx.get(f"apps.{app}.activeColor", "blue")
        other = "green" if live == "blue" else "blue"
        findings = evaluate(load_render(render(stack, [f"apps.{app}.activeColor={other}"])))
        assert findings == [], "\n".join(str(f) for f in findings)


def test_s1_bucket_acls_are_caught_on_prod() -> None:
    # S1's `gsutil acl ch` / `defacl ch -u AllUsers:R` on the legacy bucket, asked for on prod.
    if "prod" not in stacks():
        pytest.skip("no stack prod")
    sets = ["registry.mode=legacy-bucket", "registry.publicRead=true"]
    findings = [
        f
        for f in evaluate(load_render(render("prod", sets)))
        if f.rule == "registry-no-public-read"
    ]
    flagged = sorted(
        f.urn.rsplit("::", 2)[-2].rsplit("$", 1)[-1] if "::" in f.urn else f.urn for f in findings
    )
    assert flagged == [
        "gcp:storage/bucketAccessControl:BucketAccessControl",
        "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
        "stack:prod",
    ], flagged
