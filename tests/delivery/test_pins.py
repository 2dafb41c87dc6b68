"""Pinned: every action by a full commit SHA with its version in a trailing comment, at the
current major, using only inputs its action.yml declares; the Pulumi CLI at one version that
README, the workflows and the program's lock agree on; Dependabot moving the action pins and
the three pip lock sets.

actionlint knows the inputs of popular actions by tag only (``actions/checkout@v7``): once an
action is pinned by SHA it no longer checks them, so ``test_every_input_is_declared_upstream``
does, from the inputs each action's ``action.yml`` declares at the pinned commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.delivery.locks import lock_path, parse_lock
from tests.delivery.renders import ROOT
from tests.delivery.workflows import WORKFLOWS, action, load, steps, workflow_files


@dataclass(frozen=True)
class Release:
    """The release of an action the workflows pin, read from the action's own repository."""

    version: str
    """The release tag (its major is the current one)."""
    commit: str
    """The commit the tag points to."""
    inputs: frozenset[str]
    """Inputs ``action.yml`` declares at that commit (for create-github-app-token, the ones
    that are not ``permission-*`` plus the two permissions the release PR needs)."""


def _inputs(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Read from the stored copies of each repository (`git tag`, `git rev-parse <tag>^{commit}`,
# `git show <tag>:action.yml`); each tag was the newest release tag there, and its major the
# current one. The newest commit of each stored copy is named to date the reading.
RELEASES = {
    # actions/checkout action.yml at 3d3c42e5 (v7.0.1); stored copy up to f548e57e (2026-07-20).
    "actions/checkout": Release(
        "v7.0.1",
        "3d3c42e5aac5ba805825da76410c181273ba90b1",
        _inputs(
            "allow-unsafe-pr-checkout clean fetch-depth fetch-tags filter "
            "github-server-url lfs path persist-credentials ref repository "
            "set-safe-directory show-progress sparse-checkout sparse-checkout-cone-mode "
            "ssh-key ssh-known-hosts ssh-strict ssh-user submodules token"
        ),
    ),
    # actions/setup-python action.yml at 5fda3b95 (v7.0.0, the stored copy's newest commit).
    "actions/setup-python": Release(
        "v7.0.0",
        "5fda3b95a4ea91299a34e894583c3862153e4b97",
        _inputs(
            "allow-prereleases architecture cache cache-dependency-path check-latest "
            "freethreaded pip-version python-version python-version-file token "
            "update-environment"
        ),
    ),
    # actions/upload-artifact action.yml at bbbca2dd (v7.0.0, the stored copy's newest commit).
    "actions/upload-artifact": Release(
        "v7.0.0",
        "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
        _inputs(
            "archive compression-level if-no-files-found include-hidden-files name "
            "overwrite path retention-days"
        ),
    ),
    # actions/download-artifact action.yml at 3e5f45b2 (v8.0.1); stored copy up to 484a0b52.
    "actions/download-artifact": Release(
        "v8.0.1",
        "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
        _inputs(
            "artifact-ids digest-mismatch github-token merge-multiple name path pattern "
            "repository run-id skip-decompress"
        ),
    ),
    # google-github-actions/auth action.yml at 7c6bc770 (v3.0.0); stored copy up to fc217480.
    "google-github-actions/auth": Release(
        "v3.0.0",
        "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
        _inputs(
            "access_token_lifetime access_token_scopes access_token_subject audience "
            "cleanup_credentials create_credentials_file credentials_json delegates "
            "export_environment_variables id_token_audience id_token_include_email "
            "project_id request_reason service_account token_format universe "
            "workload_identity_provider"
        ),
    ),
    # google-github-actions/setup-gcloud action.yml at aa5489c8 (v3.0.1, the newest commit).
    "google-github-actions/setup-gcloud": Release(
        "v3.0.1",
        "aa5489c8933f4cc7a4f7d45035b3b1440c9c10db",
        frozenset(["cache", "install_components", "project_id", "skip_install", "version"]),
    ),
    # pulumi/actions action.yml at 8e5e406f (v7.0.0); stored copy up to deb0aa33 (2026-07-02).
    "pulumi/actions": Release(
        "v7.0.0",
        "8e5e406f4007fca908480587cb9893c07090f58d",
        _inputs(
            "always-include-summary cloud-url color command comment-on-pr "
            "comment-on-pr-number comment-on-summary config-map continue-on-error debug "
            "diff edit-pr-comment exclude exclude-dependents exclude-protected "
            "expect-no-changes github-token log-flow log-verbosity message parallel plan "
            "policyPackConfigs policyPacks pulumi-version pulumi-version-file refresh "
            "remove replace secrets-provider stack-name suppress-outputs suppress-progress "
            "target target-dependents upsert work-dir"
        ),
    ),
    # actions/create-github-app-token action.yml at 1b10c78c (v3.1.1); stored copy up to
    # 7989d206 (2026-04-21).
    "actions/create-github-app-token": Release(
        "v3.1.1",
        "1b10c78c7865c340bc4f6099eb2f838309f1e8c3",
        _inputs(
            "app-id client-id github-api-url owner private-key repositories "
            "skip-token-revoke permission-contents permission-pull-requests"
        ),
    ),
}

_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S+))?\s*$")
_PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
_VERSION = re.compile(r"^v(?P<major>\d+)(?:\.\d+){0,2}$")


def pin_problems(text: str, where: str) -> list[str]:
    """What is wrong with the ``uses:`` lines of one workflow file."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _USES.match(line)
        if not match or match["ref"].startswith("./"):
            continue
        ref, comment = match["ref"], match["comment"]
        at = f"{where}:{number}: {ref}"
        pinned = _PINNED.match(ref)
        if not pinned:
            problems.append(f"{at} is not pinned by a full commit SHA")
            continue
        version = _VERSION.match(comment or "")
        if not version:
            problems.append(f"{at} has no '# vX.Y.Z' version comment")
            continue
        release = RELEASES.get(pinned["action"])
        if release is None:
            problems.append(f"{at}: add {pinned['action']} to RELEASES, cited from its action.yml")
            continue
        current = _VERSION.match(release.version)
        assert current is not None
        if int(version["major"]) < int(current["major"]):
            problems.append(f"{at} # {comment} is behind the current major {release.version}")
        if comment == release.version and pinned["sha"] != release.commit:
            problems.append(f"{at}: {release.version} is commit {release.commit}")
    return problems


def test_every_action_is_pinned_by_commit_at_the_current_major() -> None:
    problems = [p for path in workflow_files() for p in pin_problems(path.read_text(), path.name)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # The old tree's pins: tags, a major behind.
        ("      - uses: actions/checkout@v5", "is not pinned by a full commit SHA"),
        ("      - uses: pulumi/actions@v7", "is not pinned by a full commit SHA"),
        (
            "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
            "has no '# vX.Y.Z' version comment",
        ),
        (
            "      - uses: actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6",
            "is behind the current major v7.0.0",
        ),
        (
            "      - uses: actions/checkout@0000000000000000000000000000000000000000 # v7.0.1",
            "v7.0.1 is commit 3d3c42e5aac5ba805825da76410c181273ba90b1",
        ),
        (
            "      - uses: someone/else@3d3c42e5aac5ba805825da76410c181273ba90b1 # v1",
            "add someone/else to RELEASES",
        ),
    ],
)
def test_pin_check_fails_on_a_bad_pin(line: str, expected: str) -> None:
    problems = pin_problems(line, "x.yml")
    assert any(expected in p for p in problems), problems


def input_problems(doc: dict[str, Any], where: str) -> list[str]:
    problems = []
    for job_id, step in steps(doc):
        name = action(step)
        if name is None or name not in RELEASES:
            continue
        unknown = set(step.get("with", {})) - RELEASES[name].inputs
        if unknown:
            problems.append(f"{where} {job_id}: {name} declares no input {sorted(unknown)}")
    return problems


def test_every_input_is_declared_upstream() -> None:
    problems = [p for path in workflow_files() for p in input_problems(load(path), path.name)]
    assert not problems, "\n".join(problems)


def test_input_check_fails_on_an_undeclared_input() -> None:
    doc = load(WORKFLOWS / "pulumi-up.yml")
    (up,) = [s for _, s in steps(doc) if s.get("with", {}).get("command") == "up"]
    up["with"]["policyPack"] = up["with"].pop("policyPacks")
    assert input_problems(doc, "pulumi-up.yml") == [
        "pulumi-up.yml up: pulumi/actions declares no input ['policyPack']"
    ]


def readme_pulumi_version() -> str:
    match = re.search(
        r"\[Pulumi CLI\]\([^)]*\)\s+(\d+\.\d+\.\d+)\b", (ROOT / "README.md").read_text()
    )
    assert match, "README no longer states the Pulumi CLI version as '[Pulumi CLI](…) X.Y.Z'"
    return match.group(1)


def test_pulumi_cli_version_is_one_version_everywhere() -> None:
    stated = readme_pulumi_version()
    pinned = {
        f"{path.name} {job}": str(step.get("with", {}).get("pulumi-version"))
        for path in workflow_files()
        for job, step in steps(load(path))
        if action(step) == "pulumi/actions"
    }
    assert pinned, "no pulumi/actions step: update this test"
    wrong = {where: v for where, v in pinned.items() if v != stated}
    assert not wrong, f"README states Pulumi CLI {stated}; workflows pin {wrong}"
    # The CLI and the program's SDK are released together under one version.
    sdk = parse_lock(lock_path("requirements.txt").read_text())["pulumi"].version
    assert sdk == stated, f"requirements.txt locks pulumi {sdk}, README states the CLI {stated}"


def test_dependabot_moves_the_action_pins_and_every_lock() -> None:
    # Keys of an `updates` entry, and ecosystems, as SchemaStore's dependabot-2.0.json declares
    # them (src/schemas/json/dependabot-2.0.json at 00f2f42de86c595f7318f617cc5010b65b31b980,
    # definitions.update.properties, additionalProperties: false).
    allowed = {
        "allow", "assignees", "commit-message", "cooldown", "directories", "directory",
        "groups", "ignore", "labels", "open-pull-requests-limit", "package-ecosystem",
        "rebase-strategy", "schedule", "target-branch", "versioning-strategy",
    }  # fmt: skip
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    covered: dict[str, set[str]] = {}
    for update in config["updates"]:
        assert set(update) <= allowed, set(update) - allowed
        assert {"package-ecosystem", "schedule"} <= set(update), update
        assert ("directories" in update) != ("directory" in update), update  # oneOf
        assert update["schedule"]["interval"] in {"daily", "weekly", "monthly"}
        dirs = update.get("directories") or [update.get("directory", "/")]
        covered.setdefault(update["package-ecosystem"], set()).update(dirs)
    assert "/" in covered.get("github-actions", set())
    # pip: the program, dev and tools locks live in /, the policy pack's in /policy.
    assert {"/", "/policy"} <= covered.get("pip", set()), covered
