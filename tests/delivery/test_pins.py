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
from collections.abc import Callable
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


# Each action's release at the current major, and the inputs its action.yml declares at that
# commit (docs/upstream.md lists them; re-check when Dependabot moves a pin).
RELEASES = {
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
    "actions/setup-python": Release(
        "v7.0.0",
        "5fda3b95a4ea91299a34e894583c3862153e4b97",
        _inputs(
            "allow-prereleases architecture cache cache-dependency-path check-latest "
            "freethreaded pip-version python-version python-version-file token "
            "update-environment"
        ),
    ),
    "actions/upload-artifact": Release(
        "v7.0.0",
        "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
        _inputs(
            "archive compression-level if-no-files-found include-hidden-files name "
            "overwrite path retention-days"
        ),
    ),
    "actions/download-artifact": Release(
        "v8.0.1",
        "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
        _inputs(
            "artifact-ids digest-mismatch github-token merge-multiple name path pattern "
            "repository run-id skip-decompress"
        ),
    ),
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
    "google-github-actions/setup-gcloud": Release(
        "v3.0.1",
        "aa5489c8933f4cc7a4f7d45035b3b1440c9c10db",
        frozenset(["cache", "install_components", "project_id", "skip_install", "version"]),
    ),
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
        # Tags, and a major behind the current one.
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


#: Keys of a Dependabot ``updates`` entry (SchemaStore/schemastore
#: src/schemas/json/dependabot-2.0.json at 00f2f42, ``definitions.update``: no other key,
#: ``additionalProperties: false``).
DEPENDABOT_KEYS = frozenset(
    {
        "allow", "assignees", "commit-message", "cooldown", "directories", "directory",
        "groups", "ignore", "labels", "open-pull-requests-limit", "package-ecosystem",
        "rebase-strategy", "schedule", "target-branch", "versioning-strategy",
    }
)  # fmt: skip


def dependabot_problems(config: dict[str, Any]) -> list[str]:
    """What the schema refuses in a parsed dependabot.yml (unknown or missing keys, not exactly
    one of ``directory`` and ``directories``), plus the schedules this project allows."""
    problems = [] if config.get("version") == 2 else [f"version {config.get('version')!r} is not 2"]
    updates = config.get("updates") or []
    if not updates:
        problems.append("no updates")
    for i, update in enumerate(updates):
        where = f"updates[{i}]"
        problems += [f"{where}: unknown key {k!r}" for k in sorted(set(update) - DEPENDABOT_KEYS)]
        problems += [
            f"{where}: {k!r} is required"
            for k in ("package-ecosystem", "schedule")
            if k not in update
        ]
        if ("directories" in update) == ("directory" in update):
            problems.append(f"{where}: exactly one of 'directory' and 'directories' is allowed")
        interval = (update.get("schedule") or {}).get("interval")
        if interval not in {"daily", "weekly", "monthly"}:
            problems.append(
                f"{where}: schedule.interval {interval!r} is not daily, weekly or monthly"
            )
    return problems


def dependabot_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    return config


def test_dependabot_moves_the_action_pins_and_every_lock() -> None:
    config = dependabot_config()
    assert dependabot_problems(config) == []
    covered: dict[str, set[str]] = {}
    for update in config["updates"]:
        dirs = update.get("directories") or [update.get("directory", "/")]
        covered.setdefault(update["package-ecosystem"], set()).update(dirs)
    assert "/" in covered.get("github-actions", set())
    # pip: the program, dev and tools locks live in /, the policy pack's in /policy.
    assert {"/", "/policy"} <= covered.get("pip", set()), covered


DEPENDABOT_BREAKS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "a key the schema lacks",
        lambda u: u.update(reviewers=["octocat"]),
        "unknown key 'reviewers'",
    ),
    ("a misspelt key", lambda u: u.update(schedules=u.pop("schedule")), "'schedule' is required"),
    ("both directory keys", lambda u: u.update(directory="/", directories=["/"]), "exactly one of"),
]


@pytest.mark.parametrize(
    ("what", "breaks", "problem"), DEPENDABOT_BREAKS, ids=[b[0] for b in DEPENDABOT_BREAKS]
)
def test_dependabot_check_fails_on_a_broken_file(
    what: str, breaks: Callable[[dict[str, Any]], object], problem: str
) -> None:
    config = dependabot_config()
    breaks(config["updates"][0])
    problems = dependabot_problems(config)
    assert any(problem in p for p in problems), (what, problems)
