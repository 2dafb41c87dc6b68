"""infra/config/apps.py: every app setting is checked, with Kubernetes' own rules where the API
server would refuse it; names are unique in a stack and the error names the key at fault."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.infra.config.cases import base, each_refused, parsed, refused, with_value

A = "apps.imageview"
# (path, bad value, the key the error must name, words the error must contain)
BAD = [
    ("apps", {}, "apps", "at least one app"),
    (f"{A}.activeColor", "red", f"{A}.activeColor", "blue, green"),
    (f"{A}.activeColor", "green\n", f"{A}.activeColor", "blue, green"),
    (f"{A}.replicas", -1, f"{A}.replicas", "from 0 to 1000"),
    (f"{A}.idleReplicas", -2, f"{A}.idleReplicas", "from 0"),
    (f"{A}.containerPort", 80, f"{A}.containerPort", "from 1024 to 65535"),
    (f"{A}.containerPort", 70000, f"{A}.containerPort", "from 1024"),
    (f"{A}.containerPort", "8080.0", f"{A}.containerPort", "whole number"),
    (f"{A}.service", {"port": 0}, f"{A}.service.port", "from 1 to 65535"),
    (f"{A}.service", {"type": "Ingress"}, f"{A}.service.type", "LoadBalancer, ClusterIP"),
    (f"{A}.service", {"name": "web\n"}, f"{A}.service.name", "control characters"),
    (f"{A}.service", {"name": "a" * 56}, f"{A}.service.name", "at most 55"),
    (f"{A}.deploymentName", "a" * 43, f"{A}.deploymentName", "at most 42"),
    (f"{A}.deploymentName", "Webserver", f"{A}.deploymentName", "lower-case"),
    (f"{A}.activecolor", "green", f"{A}.activecolor", "unknown key"),
    (f"{A}.colors", {"red": {}}, f"{A}.colors.red", "blue, green"),
    (f"{A}.colors", {"blue": {"source": "apps/nope"}}, f"{A}.colors.blue.source", "Dockerfile"),
    (
        f"{A}.colors",
        {"blue": {"source": "../../etc"}},
        f"{A}.colors.blue.source",
        "a folder under apps/",
    ),
    (f"{A}.colors", {"blue": {"source": "infra"}}, f"{A}.colors.blue.source", "under apps/"),
    (  # longer than a file name may be: one line, not OSError
        f"{A}.colors",
        {"blue": {"source": "apps/" + "x" * 300}},
        f"{A}.colors.blue.source",
        "under apps/",
    ),
    (f"{A}.resources", {"cpuLimit": "1" * 40}, f"{A}.resources.cpuLimit", "2^63-1"),
    (f"{A}.resources", {"cpuLimit": "1e" + "9" * 5000}, f"{A}.resources.cpuLimit", "exponent"),
    (
        f"{A}.colors",
        {"blue": {"source": "apps/lib"}},
        f"{A}.colors.blue.source",
        "holds a Dockerfile",
    ),
    (
        f"{A}.colors",
        {"blue": {"image": "not an image"}},
        f"{A}.colors.blue.image",
        "image reference",
    ),
    (
        f"{A}.colors",
        {"blue": {"image": "gcr.io/p/imageview@sha256:abc\n"}},
        f"{A}.colors.blue.image",
        "control characters",
    ),
    (
        f"{A}.env",
        {"PROJECT_ID": {"configMapKeyRef": {"name": "nope", "key": "x"}}},
        f"{A}.env.PROJECT_ID",
        "declared ConfigMap key",
    ),
    (
        f"{A}.env",
        {"SECRET_ID": {"secretKeyRef": {"name": "apikey", "key": "nope"}}},
        f"{A}.env.SECRET_ID",
        "apikey keys id, key",
    ),
    (f"{A}.env", {"bad-name": "x"}, f"{A}.env.bad-name", "variable name"),
    (f"{A}.env", {"FOO\n": "x"}, f"{A}.env.FOO\n", "variable name"),
    (f"{A}.env", {"FOO": "a\x00b"}, f"{A}.env.FOO", "control characters"),
    (f"{A}.env", {"FOO": ["x"]}, f"{A}.env.FOO", "expected a string"),
    (f"{A}.configMaps", {"projectid": {"..data": "x"}}, f"{A}.configMaps.projectid...data", ".."),
    (
        f"{A}.configMaps",
        {"projectid": {"k" * 254: "x"}},
        f"{A}.configMaps.projectid.{'k' * 254}",
        "253",
    ),
    (  # the key in the message is cut too: one bounded line
        f"{A}.configMaps",
        {"projectid": {"k" * 5000: "x"}},
        f"{A}.configMaps.projectid.{'k' * 5000}",
        "253",
    ),
    (f"{A}.configMaps", {"projectid": {"a b": "x"}}, f"{A}.configMaps.projectid.a b", "letters"),
    (f"{A}.configMaps", {"Project": {"k": "x"}}, f"{A}.configMaps.Project", "ConfigMap name"),
    (f"{A}.secret", {"name": "apikey", "keys": ["id", "id"]}, f"{A}.secret.keys", "each key once"),
    (f"{A}.secret", {"name": "apikey", "keys": [".."]}, f"{A}.secret.keys[0]", "'..'"),
    (f"{A}.secret", {"name": "apikey", "keys": []}, f"{A}.secret.keys", "non-empty list"),
    (f"{A}.portName", "http_server", f"{A}.portName", "IANA_SVC_NAME"),
    (f"{A}.portName", "123", f"{A}.portName", "at least one letter"),
    (f"{A}.portName", "http--server", f"{A}.portName", "'--'"),
    (f"{A}.portName", "very-long-port-name", f"{A}.portName", "at most 15"),
    (
        f"{A}.resources",
        {"cpuLimit": "lots"},
        f"{A}.resources.cpuLimit",
        "not a Kubernetes quantity",
    ),
    (f"{A}.resources", {"cpuRequest": "1Gi"}, f"{A}.resources.cpuRequest", "not bytes"),
    (f"{A}.resources", {"cpuRequest": "0.0001"}, f"{A}.resources.cpuRequest", "precision of 1m"),
    (f"{A}.resources", {"memoryLimit": "128m"}, f"{A}.resources.memoryLimit", "milli-bytes"),
    (f"{A}.resources", {"memoryLimit": "0.5"}, f"{A}.resources.memoryLimit", "whole number"),
    (f"{A}.resources", {"memoryLimit": "0"}, f"{A}.resources.memoryLimit", "above 0"),
    (f"{A}.resources", {"memoryLimit": "-1Gi"}, f"{A}.resources.memoryLimit", "no sign"),
    (f"{A}.resources", {"memoryLimit": "64Mi\n"}, f"{A}.resources.memoryLimit", "control"),
    (
        f"{A}.resources",
        {"cpuRequest": "2", "cpuLimit": "1"},
        f"{A}.resources.cpuRequest",
        "less than or equal to cpu limit (1)",
    ),
    (
        f"{A}.resources",
        {"memoryRequest": "1Gi"},
        f"{A}.resources.memoryRequest",
        "less than or equal to memory limit (128Mi)",
    ),
    (f"{A}.terminationGracePeriodSeconds", 3, f"{A}.terminationGracePeriodSeconds", "exceed"),
    (f"{A}.readinessPath", "readyz", f"{A}.readinessPath", "absolute"),
    (f"{A}.readinessPath", "/readyz\n", f"{A}.readinessPath", "control characters"),
    (f"{A}.readinessPath", "/ready z", f"{A}.readinessPath", "absolute URL path"),
    (f"{A}.type", "webserver\n", f"{A}.type", "control characters"),
    (f"{A}.smoke", {"status": 700}, f"{A}.smoke.status", "from 100 to 599"),
    (f"{A}.smoke", {"path": "index"}, f"{A}.smoke.path", "absolute URL path"),
    (f"{A}.smoke", {"attempts": 0}, f"{A}.smoke.attempts", "from 1 to 100"),
    (
        f"{A}.smoke",
        {"attempts": 50, "timeoutSeconds": 10, "deadlineSeconds": 60},
        f"{A}.smoke.deadlineSeconds",
        "time for every attempt",
    ),
    (f"{A}.smoke", {"retries": 3}, f"{A}.smoke.retries", "unknown key"),
    (f"{A}.smoke", {"image": "not an image"}, f"{A}.smoke.image", "an image reference"),
    (f"{A}.smoke", {"image": "Smoke:v1"}, f"{A}.smoke.image", "an image reference"),
    # base() is a gke stack: a tag, even a content tag, can be moved to other contents there.
    (f"{A}.smoke", {"image": "gcr.io/p/smoke:v1"}, f"{A}.smoke.image", "must be by digest"),
    (f"{A}.smoke", {"image": "smoke:src-" + "a" * 12}, f"{A}.smoke.image", "must be by digest"),
    (
        f"{A}.smoke",
        {"image": "gcr.io/p/smoke@sha256:" + "a" * 63},
        f"{A}.smoke.image",
        "must be by digest",
    ),
    (f"{A}.scaleDownDelaySeconds", -1, f"{A}.scaleDownDelaySeconds", "from 0 to 3600"),
    (f"{A}.release", {"live": {"color": "blue"}}, f"{A}.release.live.image", "required"),
    (
        f"{A}.release",
        {"live": {"color": "blue", "image": "gcr.io/p/i:latest", "config": "0" * 64}},
        f"{A}.release.live.image",
        "pinned by digest",
    ),
    (
        f"{A}.release",
        {"live": {"color": "blue", "image": "src-" + "a" * 12, "config": "xyz"}},
        f"{A}.release.live.config",
        "64 hex",
    ),
]


test_bad_value_names_key_value_and_what_is_allowed = each_refused(BAD)


@pytest.mark.parametrize(
    ("quantity", "resource"),
    [
        ("100m", "cpu"),
        ("0.5", "cpu"),
        ("2", "cpu"),
        ("64Mi", "memory"),
        ("1e9", "memory"),
        ("128M", "memory"),
        ("1.5Gi", "memory"),
    ],
)
def test_kubernetes_quantities_that_fit_are_kept(quantity: str, resource: str) -> None:
    limit = {"cpu": "cpuLimit", "memory": "memoryLimit"}[resource]
    app = parsed(with_value(f"{A}.resources", {limit: quantity, f"{resource}Request": "0"})).apps[
        "imageview"
    ]
    assert getattr(app.resources, f"{resource}_limit") == quantity


def test_defaults_are_pinned() -> None:
    a = parsed().apps["imageview"]
    assert (a.active_color, a.idle_replicas, a.container_port, a.port_name) == (
        "blue",
        None,
        8080,
        "http",
    )
    assert (a.readiness_path, a.liveness_path, a.drain_seconds, a.termination_grace_seconds) == (
        "/readyz",
        "/healthz",
        5,
        30,
    )
    assert (
        a.resources.cpu_request,
        a.resources.memory_request,
        a.resources.cpu_limit,
        a.resources.memory_limit,
    ) == ("50m", "64Mi", "500m", "128Mi")
    assert a.run_as_user == 10001
    assert (a.deployment_prefix, a.container_name) == ("imageview", "imageview")
    assert (a.service.name, a.service.preview_name, a.service.port) == (
        "webserver",
        "webserver-preview",
        80,
    )
    assert a.colors["blue"].replicas == a.colors["green"].replicas == 1


def test_the_smoke_client_image_is_built_unless_pinned() -> None:
    """``smoke.image`` pins the client (by digest on gke; any reference on local, like a color's
    pin there: the local platform's images are the local engine's tags)."""
    assert parsed().apps["imageview"].smoke.image is None
    digest = "gcr.io/p/smoke@sha256:" + "a" * 64
    gke = parsed(with_value(f"{A}.smoke", {"image": digest})).apps["imageview"]
    assert gke.smoke.image == digest
    local = with_value("platform", "local")
    for key in ("project", "region", "cluster"):
        del local[key]
    for ref in ("smoke:src-" + "b" * 12, "smoke:v1", digest):
        app = parsed(with_value(f"{A}.smoke", {"image": ref}, local)).apps["imageview"]
        assert app.smoke.image == ref


def test_settings_are_frozen() -> None:
    s = parsed()
    with pytest.raises(AttributeError):
        # What the types forbid, done anyway: the runtime must refuse it too.
        s.apps["imageview"].active_color = "green"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.apps["imageview"].colors["blue"].config_maps["projectid"]["x"] = "y"  # type: ignore[index]


def test_color_config_snapshot_merges_overrides() -> None:
    raw = with_value(f"{A}.colors.green.configMaps", {"projectid": {"project.id": "next"}})
    app = parsed(raw).apps["imageview"]
    assert app.colors["blue"].config_maps["projectid"]["project.id"] == "hello-docker"
    assert app.colors["green"].config_maps["projectid"]["project.id"] == "next"


def test_data_may_span_lines() -> None:
    """ConfigMap values and literal env values are data: a file's text with newlines is fine."""
    raw = with_value(f"{A}.configMaps.projectid", {"project.id": "p", "app.conf": "a=1\nb=2\n"})
    raw["apps"]["imageview"]["env"]["BANNER"] = "line 1\n\tline 2"
    app = parsed(raw).apps["imageview"]
    assert app.colors["blue"].config_maps["projectid"]["app.conf"] == "a=1\nb=2\n"


def _two_apps() -> dict[str, Any]:
    raw = base()
    other = copy.deepcopy(raw["apps"]["imageview"])
    del other["secret"]
    del other["env"]["SECRET_KEY"]
    other["configMaps"] = {"settings": {"k": "v"}}
    other["env"] = {}
    other["service"] = {"name": "other", "type": "ClusterIP"}
    raw["apps"]["other"] = other
    return raw


@pytest.mark.parametrize(
    ("path", "value", "key", "taken_by"),
    [
        (
            "apps.other.service.name",
            "webserver",
            "apps.other.service.name",
            "apps.imageview.service.name",
        ),
        (
            "apps.other.service.previewName",
            "webserver",
            "apps.other.service.previewName",
            "apps.imageview.service.name",
        ),
        (
            "apps.other.deploymentName",
            "imageview",
            "apps.other.deploymentName",
            "apps.imageview.deploymentName",
        ),
        (
            "apps.other.configMaps",
            {"projectid": {"k": "v"}},
            "apps.other.configMaps.projectid",
            "apps.imageview.configMaps.projectid",
        ),
    ],
)
def test_names_must_be_unique_across_apps(
    path: str, value: object, key: str, taken_by: str
) -> None:
    raw = with_value(path, value, _two_apps())
    refused(raw, key, f"already taken by {taken_by}")


def test_a_clash_inside_one_app_names_that_apps_key() -> None:
    raw = with_value(f"{A}.service", {"name": "web", "previewName": "web"})
    refused(raw, f"{A}.service.previewName", f"already taken by {A}.service.name")


def test_two_apps_with_distinct_names_parse() -> None:
    assert list(parsed(_two_apps()).apps) == ["imageview", "other"]


def test_a_wrong_app_name_is_named() -> None:
    raw = base()
    raw["apps"]["Image View"] = raw["apps"].pop("imageview")
    refused(raw, "apps.Image View", "an app name")
