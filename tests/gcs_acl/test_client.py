"""infra/gcs_acl/client.py: the checks before anything changes, the retry policy, paging,
credentials, and every failure translated into one line."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TypeVar, cast

import pytest
from google.api_core import exceptions as api_exceptions

from infra.gcs_acl import client, errors
from infra.gcs_acl.grant import apply
from infra.gcs_acl.scan import check
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import AclSpec, normalize_spec
from tests.gcs_acl.conftest import Emulator, FaultProxyFactory, Objects

FAST = RunSettings(retry_deadline_s=2.0, retry_initial_s=0.05, retry_max_s=0.2)
SPEC = AclSpec(bucket="bkt")

_E = TypeVar("_E", bound=api_exceptions.GoogleAPICallError)


def api_error(kind: type[_E], message: str) -> _E:
    """``kind(message)``: google-api-core leaves its exceptions' ``__init__`` unannotated."""
    return cast(Callable[[str], _E], kind)(message)


def spec(bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER") -> AclSpec:
    return normalize_spec(bucket, prefix, entity, role)


@pytest.fixture
def fast() -> Iterator[client.Gcs]:
    """A Gcs for the session's emulator (anonymous, nothing sent until a request is made)."""
    made = client.Gcs(FAST)
    yield made
    made.close()


# ----------------------------------------------------------------------------- before any change


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (RunSettings(workers=0), "workers must be a whole number from 1 to 256"),
        (RunSettings(page_size=1001), "page_size must be a whole number from 1 to 1000"),
        (RunSettings(retry_deadline_s=0), "retry_deadline_s must be a finite number"),
        (RunSettings(retry_deadline_s=math.nan), "retry_deadline_s must be a finite"),
        (RunSettings(progress_interval_s=math.inf), "progress_interval_s must be"),
    ],
)
def test_bad_settings_rejected_before_any_request(
    fault_proxy: FaultProxyFactory, settings: RunSettings, words: str
) -> None:
    proxy = fault_proxy(lambda *_: None)
    with (
        pytest.raises(errors.InvalidSpecError, match=words),
        client.session(spec("never-contacted"), settings),
    ):
        pass
    assert proxy.requests == 0


@pytest.mark.emulator
def test_missing_bucket_is_one_clear_error() -> None:
    with pytest.raises(errors.BucketNotFoundError) as err:
        apply("grant", spec("no-such-bucket-here"), FAST)
    assert str(err.value).startswith("bucket gs://no-such-bucket-here does not exist")
    assert "nothing changed" in str(err.value)


@pytest.mark.emulator
def test_access_denied_on_the_bucket(bucket: str, fault_proxy: FaultProxyFactory) -> None:
    fault_proxy(lambda *_: 403)
    for run in (
        lambda: check(spec(bucket), FAST),
        lambda: apply("grant", spec(bucket), FAST),
    ):
        with pytest.raises(errors.AccessDeniedError) as err:
            run()
        assert str(err.value).startswith("access denied (403) while reading bucket")
        assert str(err.value).endswith("; nothing changed")


# ----------------------------------------------------------------------------- retries


def test_call_retries_a_transient_failure_until_it_answers(fast: client.Gcs) -> None:
    answers: list[Exception | str] = [api_error(api_exceptions.ServiceUnavailable, "busy"), "ok"]

    def request() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert fast.call(request) == "ok"
    assert fast.limit.pushbacks == 1 and fast.limit.in_flight == 0


def test_call_gives_up_after_its_retry_deadline_with_the_last_failure() -> None:
    gcs = client.Gcs(RunSettings(retry_deadline_s=0.3, retry_initial_s=0.05, retry_max_s=0.1))
    attempts: list[int] = []

    def request() -> None:
        attempts.append(1)
        raise api_error(api_exceptions.TooManyRequests, "slow down")

    with pytest.raises(api_exceptions.TooManyRequests):
        gcs.call(request)
    assert len(attempts) >= 3 and gcs.limit.pushbacks == len(attempts)


def test_call_does_not_retry_a_permanent_failure(fast: client.Gcs) -> None:
    attempts: list[int] = []

    def request() -> None:
        attempts.append(1)
        raise api_error(api_exceptions.Forbidden, "no")

    with pytest.raises(api_exceptions.Forbidden):
        fast.call(request)
    assert len(attempts) == 1 and fast.limit.pushbacks == 0


def test_call_sends_nothing_once_the_run_stops(fast: client.Gcs) -> None:
    fast.stop.set()
    sent: list[int] = []
    with pytest.raises(client.StoppedError):
        fast.call(lambda: sent.append(1))
    assert sent == [] and fast.limit.in_flight == 0


@pytest.mark.emulator
def test_retries_429_and_5xx_with_backoff(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, [f"o{i}" for i in range(20)])
    seen = {"list": 0, "patch": 0}

    def rule(method: str, path: str, n: int) -> int | None:
        if method == "GET" and path.split("?", maxsplit=1)[0].endswith("/o"):
            seen["list"] += 1
            return 503 if seen["list"] <= 2 else None  # the first list page fails twice
        if method == "PATCH":
            seen["patch"] += 1
            if seen["patch"] % 3 == 1:  # every third patch: 429, then each 5xx in turn
                return [429, 500, 502, 503, 504][(seen["patch"] // 3) % 5]
        return None

    proxy = fault_proxy(rule)
    summary = apply("grant", spec(bucket), FAST)
    assert (summary.changed, summary.failed) == (20, 0)
    assert len(proxy.injected) >= 9  # 2 list failures + every third PATCH
    assert {status for _, _, status in proxy.injected} >= {429, 503}
    assert objects.public(bucket) == {f"o{i}" for i in range(20)}


# ----------------------------------------------------------------------------- paging


@pytest.mark.emulator
def test_pages_list_every_object_with_its_acl(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a", "b", "c", "d", "e"])
    objects.set_acl(bucket, "c", [{"entity": "allUsers", "role": "READER"}])
    gcs = client.Gcs(RunSettings(page_size=2))
    counted: list[int] = []
    try:
        listed = list(client.pages(gcs, spec(bucket), lambda: counted.append(1)))
    finally:
        gcs.close()
    assert [[item.name for item in page] for page in listed] == [["a", "b"], ["c", "d"], ["e"]]
    assert len(counted) == 3
    c = listed[1][0]
    assert c.metageneration >= 1 and c.acl is not None
    assert [(e["entity"], e["role"]) for e in c.acl] == [("allUsers", "READER")]


# ----------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("127.0.0.1:9023", "http://127.0.0.1:9023"),
        ("http://127.0.0.1:9023", "http://127.0.0.1:9023"),
        ("https://storage.example", "https://storage.example"),
        ("", None),
    ],
)
def test_the_emulator_variable_with_or_without_a_scheme(
    monkeypatch: pytest.MonkeyPatch, value: str, url: str | None
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", value)
    assert client.emulator_url() == url


@pytest.mark.emulator
def test_emulator_host_without_scheme(
    bucket: str, objects: Objects, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{emulator.port}")
    objects.seed(bucket, ["a"])
    assert apply("grant", spec(bucket), FAST).changed == 1


def test_real_gcs_without_credentials_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    # GOOGLE_APPLICATION_CREDENTIALS points at a missing file (conftest): ADC fails at once.
    with pytest.raises(errors.CredentialsError) as err:
        apply("grant", spec("some-bucket"), FAST)
    assert str(err.value).startswith("no application default credentials")
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- translation


@pytest.mark.parametrize(
    ("err", "kind", "start"),
    [
        (
            api_error(api_exceptions.NotFound, "gone"),
            errors.BucketNotFoundError,
            "bucket gs://bkt does not",
        ),
        (
            api_error(api_exceptions.Forbidden, "caller lacks storage.objects.list"),
            errors.AccessDeniedError,
            "access denied (403) while listing gs://bkt/* on gs://bkt: the credentials need",
        ),
        (
            api_error(api_exceptions.ServiceUnavailable, "busy"),
            errors.TransportError,
            "http://127.0.0.1:",
        ),
        (
            api_error(api_exceptions.BadRequest, "bad page token"),
            errors.RequestError,
            "GCS rejected listing gs://bkt/* on gs://bkt: ",
        ),
        (
            ValueError("first line\nsecond line"),
            errors.RequestError,
            "unexpected failure while listing gs://bkt/* on gs://bkt: first line",
        ),
    ],
)
def test_every_failure_becomes_one_line_naming_what_was_being_done(
    fast: client.Gcs, err: Exception, kind: type[errors.GcsAclError], start: str
) -> None:
    translated = client.translate(err, SPEC, fast, "listing gs://bkt/*")
    text = str(translated)
    assert type(translated) is kind
    assert text.startswith(start) and "\n" not in text, text
    assert "nothing changed" not in text  # only the bucket read comes before any change


def test_a_failure_reading_the_bucket_says_nothing_changed(fast: client.Gcs) -> None:
    translated = client.translate(
        api_error(api_exceptions.Forbidden, "no"), SPEC, fast, "reading bucket gs://bkt"
    )
    assert str(translated).endswith("GCS said: no; nothing changed")
    already = errors.RequestError("as it was")
    assert client.translate(already, SPEC, fast, "listing") is already


def test_a_transient_failure_says_how_long_it_was_retried(fast: client.Gcs) -> None:
    text = str(
        client.translate(api_error(api_exceptions.GatewayTimeout, "slow"), SPEC, fast, "listing")
    )
    assert "unreachable or failing while listing after retrying for 2s: 504 slow" in text
