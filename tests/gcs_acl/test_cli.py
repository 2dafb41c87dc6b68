"""``python -m infra.gcs_acl`` as an operator runs it (a real process) against the emulator."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.emulator


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.gcs_acl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_grant_then_second_run_changes_nothing_and_says_so(bucket, objects):
    objects.seed(bucket, ["a", "b", "c"])
    first = cli("grant", "--bucket", bucket, "--progress-interval", "0")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        f"grant allUsers:READER on gs://{bucket}/*: scanned 3, changed 3, already public 0, "
        "failed 0 (1 pages, "
    )
    assert first.stderr.startswith(f"... grant gs://{bucket}/*: scanned 3 (1 pages)")
    second = cli("grant", "--bucket", f"gs://{bucket}", "--entity", "AllUsers", "--role", "R")
    assert second.returncode == 0
    assert "changed 0, already public 3" in second.stdout
    assert second.stdout.strip().endswith("nothing to change, already up to date")


def test_check_lists_everything_that_is_not_public(bucket, objects, gcs):
    objects.seed(bucket, ["v1/a", "v1/b"])
    cli("grant", "--bucket", bucket)
    objects.set_acl(bucket, "v1/b", [])
    out = cli("check", "--bucket", bucket)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("NOT PUBLIC  bucket ACL: allUsers lacks READER")
    assert lines[1].startswith("NOT PUBLIC  default object ACL: allUsers lacks READER")
    assert lines[2] == (
        f"NOT PUBLIC  objects: 1 of 2 objects under gs://{bucket}/* hold allUsers:READER; "
        "1 lack it: v1/b"
    )
    assert lines[3] == f"check allUsers:READER on gs://{bucket}/*: NOT public"

    # What S1's three gsutil commands leave behind: bucket ACL, default ACL, every object.
    b = gcs.get_bucket(bucket)
    b.acl.all().grant_read()
    b.acl.save()
    b.default_object_acl.all().grant_read()
    b.default_object_acl.save()
    assert cli("grant", "--bucket", bucket).returncode == 0
    ok = cli("check", "--bucket", bucket)
    assert ok.returncode == 0, ok.stdout
    assert [line.split()[0] for line in ok.stdout.splitlines()[:3]] == ["OK"] * 3
    assert ok.stdout.splitlines()[-1].endswith(": public")


def test_check_under_uniform_access_looks_at_the_iam_binding(bucket, gcs):
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    missing = cli("check", "--bucket", bucket)
    assert missing.returncode == 1
    assert missing.stdout.startswith(
        "NOT PUBLIC  IAM binding: allUsers lacks roles/storage.objectViewer"
    )
    policy = b.get_iam_policy()
    policy["roles/storage.objectViewer"] = {"allUsers"}
    b.set_iam_policy(policy)
    bound = cli("check", "--bucket", bucket)
    assert bound.returncode == 0, bound.stdout
    assert bound.stdout.startswith(
        "OK          IAM binding: allUsers has roles/storage.objectViewer"
    )

    refused = cli("grant", "--bucket", bucket)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: gs://{bucket} has uniform bucket-level access on")
    assert len(refused.stderr.splitlines()) == 1


def test_revoke(bucket, objects):
    objects.seed(bucket, ["a", "b"])
    cli("grant", "--bucket", bucket)
    out = cli("revoke", "--bucket", bucket, "--prefix", "a")
    assert out.returncode == 0
    assert "revoke allUsers:READER on gs://" in out.stdout and "changed 1" in out.stdout
    assert objects.public(bucket) == {"b"}


@pytest.mark.parametrize(
    ("args", "code", "first_words"),
    [
        (("grant", "--bucket", "no-such-bucket-x"), 1, "error: bucket gs://no-such-bucket-x"),
        (("grant", "--bucket", "ok-bucket", "--role", "WRITER"), 2, "error: invalid role"),
        (("check", "--bucket", "B"), 2, "error: invalid bucket name"),
        (("revoke", "--bucket", "ok-bucket", "--entity", "someone"), 2, "error: invalid entity"),
        (("grant", "--bucket", "ok-bucket", "--workers", "0"), 2, "error: workers must be"),
    ],
)
def test_errors_are_one_line_with_exit_code(args, code, first_words):
    out = cli(*args)
    assert out.returncode == code
    assert out.stderr.startswith(first_words)
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_usage_error_exit_2():
    out = cli("grant")
    assert out.returncode == 2 and "--bucket" in out.stderr


def test_ctrl_c_exits_130_with_partial_progress(bucket, objects):
    objects.seed(bucket, [f"o{i:04d}" for i in range(2500)])
    args = ["grant", "--bucket", bucket, "--progress-interval", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.gcs_acl", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # printed once the first page is underway
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    rest = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 130
    assert first.startswith(f"... grant gs://{bucket}/*: scanned 1000 (1 pages)")
    assert f"error: interrupted during grant on gs://{bucket}/*" in rest
    assert "partial progress: grant allUsers:READER" in rest and "INCOMPLETE" in rest
    assert len(objects.public(bucket)) < 2500
