"""infra/gcs_acl/results.py: the one line a grant, revoke, scan or check is said in."""

from __future__ import annotations

import pytest

from infra.gcs_acl.results import CheckReport, Finding, Scan, Summary
from infra.gcs_acl.spec import AclSpec, Action

PUBLIC = AclSpec(bucket="bkt")
OPS = AclSpec(bucket="bkt", entity="user-ops@example.com")


def done(**counts: object) -> Summary:
    # Any of Summary's fields by name: mypy cannot match a dict's values to each one.
    defaults: dict[str, object] = {"action": "grant", "spec": PUBLIC, "pages": 1}
    return Summary(**{**defaults, "listed_all": True, "complete": True, **counts})  # type: ignore[arg-type]


def test_a_complete_grant() -> None:
    line = done(scanned=3, changed=2, already=1, elapsed_s=1.25).line()
    assert line == (
        "grant allUsers:READER on gs://bkt/*: scanned 3, changed 2, already public 1, failed 0 "
        "(1 pages, 1.2s)"
    )


@pytest.mark.parametrize(
    ("action", "spec", "words"),
    [
        ("grant", PUBLIC, "already public 2"),
        ("grant", OPS, "already granted 2"),
        ("revoke", PUBLIC, "already private 2"),
        ("revoke", OPS, "already revoked 2"),
    ],
)
def test_what_already_means_depends_on_the_action_and_the_entity(
    action: Action, spec: AclSpec, words: str
) -> None:
    line = done(action=action, spec=spec, scanned=2, already=2).line()
    assert words in line and line.endswith("nothing to change, already up to date")


def test_an_incomplete_run_counts_what_it_left_undone_and_says_to_re_run() -> None:
    line = done(scanned=5, changed=2, undone=3, complete=False).line()
    assert "left undone 3" in line and line.endswith("INCOMPLETE, re-run to finish")
    stopped = done(scanned=5, changed=5, complete=False, listed_all=False).line()
    assert "left undone 0" in stopped
    assert stopped.endswith("(the listing stopped early: objects not yet listed are not counted)")


def test_vanished_objects_and_pushbacks_are_said() -> None:
    line = done(scanned=2, changed=1, vanished=1, pushbacks=4, lowest_in_flight=2).line()
    assert ", vanished 1 (" in line
    assert "backend pushed back 4 times, requests in flight lowered to 2" in line


def test_nothing_matched_is_not_up_to_date() -> None:
    line = done(spec=AclSpec(bucket="bkt", prefix="layers*")).line()
    assert "nothing matched: no object name in gs://bkt starts with 'layers*'" in line
    assert "up to date" not in line
    assert done().line().endswith("- the bucket gs://bkt has no objects")


def test_a_scan_that_stopped_says_nothing_changed() -> None:
    scan = Scan(spec=PUBLIC, scanned=7, holding=5, missing=2, pages=1)
    assert scan.line() == (
        "check allUsers:READER on gs://bkt/*: scanned 7 (1 pages), holding 5, lacking 2 - "
        "INCOMPLETE, nothing changed"
    )


def test_a_check_is_ok_only_if_every_finding_is() -> None:
    good, bad = Finding(True, "bucket ACL", "ok"), Finding(False, "objects", "1 lacks it")
    assert CheckReport(PUBLIC, False, [good, good], None).ok
    assert not CheckReport(PUBLIC, False, [good, bad], None).ok
