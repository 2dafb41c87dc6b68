"""The one table of rules (policy/rules/__init__.py, ``RULES``) and the package's two ways in: as
``policy.rules`` (the project) and as the top-level ``rules`` (the pack, in its own venv)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from policy.rules import RULES
from policy.rules.model import Level
from tests.policy.rules.cases import DEPLOYMENT, PROD, UNKNOWN, deployment

ROOT = Path(__file__).resolve().parents[3]


def test_every_rule_passes_the_good_deployment() -> None:
    for r in RULES:
        assert r.resource_messages(DEPLOYMENT, deployment(), UNKNOWN, PROD) == [], r.name


def test_rule_names_are_unique_and_levels_cover_both() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert {r.level for r in RULES} == {Level.MANDATORY, Level.ADVISORY}


def test_every_rule_checks_something() -> None:
    for r in RULES:
        assert r.check or r.options_check or r.resources_check, r.name


def test_a_rule_over_all_resources_has_no_per_resource_check() -> None:
    """The pack names its stack policy after the rule itself (policy/__main__.py)."""
    for r in RULES:
        if r.resources_check is not None:
            assert r.check is None and r.options_check is None, r.name


def test_rules_package_needs_no_pulumi_policy() -> None:
    # The rules import in the program's venv, where pulumi_policy is not installed.
    code = "import sys, policy.rules; print('pulumi_policy' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_the_pack_imports_the_same_table_as_top_level_rules() -> None:
    # The pack runs with policy/ first on sys.path and imports `rules`, not `policy.rules`.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import rules; "
        "assert 'policy' not in sys.modules, sorted(sys.modules); "
        "print(' '.join(r.name for r in rules.RULES))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "policy")],
        cwd=ROOT / "policy",
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.split() == [r.name for r in RULES]
