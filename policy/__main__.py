"""CrossGuard entry point: the rules of the ``rules`` package (``RULES``) as a Pulumi PolicyPack.

The Pulumi CLI runs this file (``pulumi preview --policy-pack policy``) in the pack's own venv,
with the pack directory first on ``sys.path`` — hence ``from rules import …`` rather than
``policy.rules``. The engine passes the stack name and its config in ``PULUMI_STACK`` and
``PULUMI_CONFIG``; a rule that needs them gets them in a :class:`rules.model.Context`.

Constructing the PolicyPack starts its gRPC server on loopback, prints the port and serves until
the engine stops it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from rules import RULES
from rules.model import PROD_STACK, Context, Level, Options, Resource, Rule, parse_config

LEVELS = {
    Level.MANDATORY: EnforcementLevel.MANDATORY,
    Level.ADVISORY: EnforcementLevel.ADVISORY,
}


@functools.cache
def context() -> Context:
    """The stack being previewed (the engine starts one pack process per stack).

    An unknown stack is treated as prod, so the pack fails closed.
    """
    config: Mapping[str, Any] = parse_config(pulumi.runtime.get_config_env())
    return Context(stack=os.environ.get("PULUMI_STACK") or PROD_STACK, config=config)


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    """One rule's per-resource check as a CrossGuard resource policy."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        # CrossGuard hands over `protect` but not `retainOnDelete` (rules.model.Options).
        options = Options(protect=args.opts.protect)
        for message in rule.resource_messages(args.resource_type, args.props, options, context()):
            report_violation(f"{rule.name}: {message}", None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        enforcement_level=LEVELS[rule.level],
        validate=validate,
    )


def stack_policy(rule: Rule) -> StackValidationPolicy:
    """One rule's stack-config check as a CrossGuard stack policy."""
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(context()):
            report_violation(f"{rule.name}: {message}", None)

    return StackValidationPolicy(
        name=f"{rule.name}-config",
        description=rule.description,
        enforcement_level=LEVELS[rule.level],
        validate=validate,
    )


def resources_policy(rule: Rule) -> StackValidationPolicy:
    """One rule's check over every resource together as a CrossGuard stack policy, named after
    the rule (such a rule has no per-resource check), each finding on the resource at fault."""
    check = rule.resources_check
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        every = [Resource(type=r.resource_type, urn=r.urn, inputs=r.props) for r in args.resources]
        for urn, message in check(every, context()):
            report_violation(f"{rule.name}: {message}", urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        enforcement_level=LEVELS[rule.level],
        validate=validate,
    )


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every rule: a resource policy for its per-resource checks, a stack policy for its
    stack-config check, and one for its check over all resources together."""
    out: list[ResourceValidationPolicy | StackValidationPolicy] = [
        resource_policy(r) for r in RULES if r.check is not None or r.options_check is not None
    ]
    out += [stack_policy(r) for r in RULES if r.stack_check is not None]
    out += [resources_policy(r) for r in RULES if r.resources_check is not None]
    return out


if __name__ == "__main__":
    PolicyPack(
        name="gke-bluegreen",
        policies=list(policies()),
        enforcement_level=EnforcementLevel.MANDATORY,
    )
