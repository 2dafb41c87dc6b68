"""infra/config.py: every bad value stops the run with one line naming key, value and what is
allowed; defaults are pinned; stack files parse."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from infra import config
from infra.config import ConfigError, parse
from infra.render import stack_config, stack_names

SECRETS = {"imageview": {"id": "asa", "key": "s3cret-key"}}


def base() -> dict[str, Any]:
    """A small valid gke config with one app (the S4 shape)."""
    return {
        "project": "hello-docker",
        "region": "asia-northeast1",
        "cluster": {"zone": "asia-northeast1-a", "machineType": "n1-standard-1", "nodeCount": 3},
        "apps": {
            "imageview": {
                "type": "webserver",
                "configMaps": {"projectid": {"project.id": "hello-docker"}},
                "secret": {"name": "apikey", "keys": ["id", "key"]},
                "env": {
                    "PROJECT_ID": {"configMapKeyRef": {"name": "projectid", "key": "project.id"}},
                    "SECRET_KEY": {"secretKeyRef": {"name": "apikey", "key": "key"}},
                },
                "colors": {
                    "blue": {"source": "apps/imageview/blue"},
                    "green": {"source": "apps/imageview/green"},
                },
                "service": {"name": "webserver", "type": "LoadBalancer"},
            }
        },
    }


def with_value(path: str, value: object) -> dict[str, Any]:
    raw = copy.deepcopy(base())
    node: Any = raw
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


_DELETE = object()

# (path, bad value, the key the error must name, words the error must contain)
BAD = [
    ("project", "", "project", "GCP project id"),
    ("project", _DELETE, "project", "required"),
    ("project", "Hello_Docker", "project", "GCP project id"),
    ("region", "asia northeast1", "region", "GCP region"),
    ("cluster.zone", "asia-northeast1", "cluster.zone", "GCP zone"),
    ("cluster.zone", "us-central1-a", "cluster.zone", "must be in region asia-northeast1"),
    ("cluster.machineType", "x9-standard-1", "cluster.machineType", "known families"),
    ("cluster.machineType", "n1standard1", "cluster.machineType", "machine type"),
    ("cluster.nodeCount", 0, "cluster.nodeCount", "from 1 to 1000"),
    ("cluster.nodeCount", "three", "cluster.nodeCount", "whole number"),
    ("cluster.nodeCount", 2.5, "cluster.nodeCount", "whole number"),
    ("cluster.autoscaling", {"minNodes": 1}, "cluster.autoscaling", "both minNodes and maxNodes"),
    ("cluster.releaseChannel", "BETA", "cluster.releaseChannel", "RAPID, REGULAR"),
    ("cluster.autoUpgrade", False, "cluster.releaseChannel", "UNSPECIFIED"),
    ("cluster.spot", "yes", "cluster.spot", "true or false"),
    ("cluster.masterCidr", "10.0.0.0/24", "cluster.masterCidr", "/28"),
    (
        "cluster.authorizedNetworks",
        [{"cidrBlock": "300.1.1.0/24"}],
        "cluster.authorizedNetworks[0].cidrBlock",
        "IPv4 CIDR",
    ),
    ("cluster.name", "Image_View", "cluster.name", "lower-case"),
    ("cluster.nodes", 3, "cluster.nodes", "unknown key"),
    ("registry", {"mode": "dockerhub"}, "registry.mode", "artifact, gcr-domain, legacy-bucket"),
    (
        "registry",
        {"uniformBucketLevelAccess": True},
        "registry.uniformBucketLevelAccess",
        "legacy-bucket",
    ),
    ("registry", {"location": "mars"}, "registry.location", "us, europe, asia"),
    ("apps", {}, "apps", "at least one app"),
    ("apps.imageview.activeColor", "red", "apps.imageview.activeColor", "blue, green"),
    ("apps.imageview.replicas", -1, "apps.imageview.replicas", "from 0 to 1000"),
    ("apps.imageview.idleReplicas", -2, "apps.imageview.idleReplicas", "from 0"),
    ("apps.imageview.containerPort", 80, "apps.imageview.containerPort", "from 1024 to 65535"),
    ("apps.imageview.containerPort", 70000, "apps.imageview.containerPort", "from 1024"),
    ("apps.imageview.service", {"port": 0}, "apps.imageview.service.port", "from 1 to 65535"),
    (
        "apps.imageview.service",
        {"type": "Ingress"},
        "apps.imageview.service.type",
        "LoadBalancer, ClusterIP, NodePort",
    ),
    ("apps.imageview.activecolor", "green", "apps.imageview.activecolor", "unknown key"),
    ("apps.imageview.colors", {"red": {}}, "apps.imageview.colors.red", "blue, green"),
    (
        "apps.imageview.colors",
        {"blue": {"source": "apps/nope"}},
        "apps.imageview.colors.blue.source",
        "Dockerfile",
    ),
    (
        "apps.imageview.colors",
        {"blue": {"source": "../../etc"}},
        "apps.imageview.colors.blue.source",
        "a folder under apps/",
    ),
    (
        "apps.imageview.colors",
        {"blue": {"source": "infra"}},
        "apps.imageview.colors.blue.source",
        "a folder under apps/",
    ),
    (
        "apps.imageview.colors",
        {"blue": {"source": "apps/lib"}},
        "apps.imageview.colors.blue.source",
        "holds a Dockerfile",
    ),
    (
        "apps.imageview.colors",
        {"blue": {"image": "not an image"}},
        "apps.imageview.colors.blue.image",
        "image reference",
    ),
    (
        "apps.imageview.env",
        {"PROJECT_ID": {"configMapKeyRef": {"name": "nope", "key": "x"}}},
        "apps.imageview.env.PROJECT_ID",
        "declared ConfigMap key",
    ),
    (
        "apps.imageview.env",
        {"SECRET_ID": {"secretKeyRef": {"name": "apikey", "key": "nope"}}},
        "apps.imageview.env.SECRET_ID",
        "apikey keys id, key",
    ),
    ("apps.imageview.env", {"bad-name": "x"}, "apps.imageview.env.bad-name", "variable name"),
    (
        "apps.imageview.resources",
        {"cpuLimit": "lots"},
        "apps.imageview.resources.cpuLimit",
        "quantity",
    ),
    (
        "apps.imageview.terminationGracePeriodSeconds",
        3,
        "apps.imageview.terminationGracePeriodSeconds",
        "exceed drainSeconds",
    ),
    ("apps.imageview.readinessPath", "readyz", "apps.imageview.readinessPath", "absolute"),
    ("platform", "aws", "platform", "gke, local"),
]


@pytest.mark.parametrize(
    ("ignore", "problem"),
    [
        (None, "web/Dockerfile.dockerignore is missing"),
        ("!web/app.js\n", "must start with '*' (deny all)"),
        ("*\n!web/*.js\n", "'!web/*.js' is not '!<path>' with a literal path"),
        ("*\nweb/app.js\n", "'web/app.js' is not '!<path>'"),
        ("*\n!../secret\n", "'!../secret' is not '!<path>'"),
        ("*\n!/etc/passwd\n", "'!/etc/passwd' is not '!<path>'"),
        ("*\n!web/gone.js\n", "'!web/gone.js' names nothing under apps/"),
    ],
)
def test_source_needs_a_literal_allow_list_beside_its_dockerfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ignore: str | None, problem: str
) -> None:
    apps = tmp_path / "apps"
    (apps / "web").mkdir(parents=True)
    (apps / "web/Dockerfile").write_text("FROM scratch\nCOPY web/app.js /\n")
    (apps / "web/app.js").write_text("")
    if ignore is not None:
        (apps / "web/Dockerfile.dockerignore").write_text(ignore)
    monkeypatch.setattr(config, "ROOT", tmp_path)
    monkeypatch.setattr(config, "APPS", apps)
    colors = {"blue": {"source": "apps/web"}, "green": {"source": "apps/web"}}
    with pytest.raises(ConfigError) as caught:
        parse(with_value("apps.imageview.colors", colors), "test", SECRETS)
    message = str(caught.value)
    assert caught.value.key == "apps.imageview.colors.blue.source", message
    assert "Dockerfile.dockerignore allow-list" in message and problem in message, message


def test_a_literal_allow_list_is_read_in_order(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    (apps / "web").mkdir(parents=True)
    (apps / "lib/js").mkdir(parents=True)
    (apps / "web/app.js").write_text("")
    (apps / "web/Dockerfile.dockerignore").write_text("# allow\n*\n\n!lib/js/\n!web/app.js\n")
    assert config.allow_list(apps / "web", apps) == ("lib/js", "web/app.js")


@pytest.mark.parametrize(
    ("path", "value", "key", "allowed"), BAD, ids=[f"{p}={v!r}"[:60] for p, v, *_ in BAD]
)
def test_bad_value_names_key_value_and_what_is_allowed(
    path: str, value: object, key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(with_value(path, value), "test", SECRETS)
    message = str(caught.value)
    assert caught.value.key == key, message
    assert message.startswith(f"config {key}: "), message
    assert allowed in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("secrets", "key", "allowed"),
    [
        (None, "secrets.imageview.id", "pulumi config set --secret --path 'secrets.imageview.id'"),
        ({"imageview": {"id": "a"}}, "secrets.imageview.key", "pulumi config set --secret"),
        (
            {"imageview": {"id": "a", "key": "b", "extra": "c"}},
            "secrets.imageview.extra",
            "allowed keys: id, key",
        ),
        ({**SECRETS, "ghost": {"x": "y"}}, "secrets.ghost", "no such app; apps: imageview"),
        ("a-plain-string", "secrets", "secrets.<app>.<key>"),
    ],
)
def test_bad_secrets_never_echo_the_value(secrets: object, key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(base(), "test", secrets)
    assert caught.value.key == key
    assert allowed in str(caught.value)
    for value in ("asa", "s3cret-key", "plain-string", '"a"', '"b"', '"c"', '"y"'):
        assert value not in str(caught.value)


def test_names_must_be_unique_across_apps() -> None:
    raw = base()
    raw["apps"]["other"] = copy.deepcopy(raw["apps"]["imageview"])
    del raw["apps"]["other"]["secret"]
    del raw["apps"]["other"]["env"]["SECRET_KEY"]
    with pytest.raises(ConfigError, match="already used by app imageview"):
        parse(raw, "test", SECRETS)


def test_local_platform_rejects_gcp_keys() -> None:
    raw = {"platform": "local", "project": "hello-docker", "apps": base()["apps"]}
    with pytest.raises(ConfigError, match="not used on the local platform"):
        parse(raw, "test", SECRETS)


def test_public_defaults_are_pinned() -> None:
    """What a stack gets when it says nothing: a change here is a change for every user."""
    s = parse(base(), "test", SECRETS)
    assert s.platform == "gke"
    assert s.cluster is not None and s.registry is not None
    c = s.cluster
    assert (c.name, c.location, c.disk_size_gb, c.spot) == ("test", "asia-northeast1-a", 50, False)
    assert (c.auto_repair, c.auto_upgrade, c.release_channel) == (True, True, "REGULAR")
    assert (c.deletion_protection, c.private_nodes, c.authorized_networks) == (True, False, ())
    r = s.registry
    assert (r.mode, r.location, r.repository, r.public_read) == (
        "artifact",
        "asia-northeast1",
        "apps",
        False,
    )
    a = s.apps["imageview"]
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
    assert a.service.preview_name == "webserver-preview"
    assert a.service.port == 80


def test_strings_from_the_cli_are_typed() -> None:
    """`pulumi config set --path` may store "3" and "true" as strings."""
    raw = with_value("cluster.nodeCount", "3")
    raw["cluster"]["spot"] = "true"
    s = parse(raw, "test", SECRETS)
    assert s.cluster is not None
    assert (s.cluster.node_count, s.cluster.spot) == (3, True)


def test_settings_are_frozen() -> None:
    s = parse(base(), "test", SECRETS)
    with pytest.raises(AttributeError):
        s.apps["imageview"].active_color = "green"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.apps["imageview"].colors["blue"].config_maps["projectid"]["x"] = "y"  # type: ignore[index]


def test_color_config_snapshot_merges_overrides() -> None:
    raw = with_value(
        "apps.imageview.colors.green.configMaps", {"projectid": {"project.id": "next"}}
    )
    s = parse(raw, "test", SECRETS)
    app = s.apps["imageview"]
    assert app.colors["blue"].config_maps["projectid"]["project.id"] == "hello-docker"
    assert app.colors["green"].config_maps["projectid"]["project.id"] == "next"


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_file_parses(stack: str) -> None:
    raw, _ = stack_config(stack)
    values = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{config.PROJECT}:")}
    secrets = values.pop("secrets", None)
    settings = parse(values, stack, secrets)
    assert settings.apps


def _load(config: dict[str, str], secret_keys: list[str]) -> config.Settings:
    from infra import mocks

    mocks.install("test", config, secret_keys, preview=False)
    return config_module.load()


config_module = config
APPS = '{"kubia": {"source": "apps/kubia"}}'


def test_load_reads_the_runtime_config() -> None:
    s = _load({"gke-bluegreen:platform": "local", "gke-bluegreen:apps": APPS}, [])
    assert s.platform == "local" and list(s.apps) == ["kubia"] and s.stack == "test"


def test_load_rejects_unknown_top_level_keys() -> None:
    with pytest.raises(ConfigError, match=r"config clusterr: .*unknown key; allowed: platform"):
        _load(
            {
                "gke-bluegreen:platform": "local",
                "gke-bluegreen:apps": APPS,
                "gke-bluegreen:clusterr": "{}",
            },
            [],
        )


def test_load_rejects_secrets_set_without_secret() -> None:
    apps = (
        '{"imageview": {"source": "apps/imageview/blue", "secret": '
        '{"name": "apikey", "keys": ["id"]}}}'
    )
    plain_secrets = {
        "gke-bluegreen:platform": "local",
        "gke-bluegreen:apps": apps,
        "gke-bluegreen:secrets": '{"imageview": {"id": "asa"}}',
    }
    with pytest.raises(ConfigError, match="must be set with --secret") as caught:
        _load(plain_secrets, ["gke-bluegreen:other"])
    assert "asa" not in str(caught.value)
    s = _load(plain_secrets, ["gke-bluegreen:secrets"])
    assert s.secrets.keys_of("imageview") == ("id",)
    assert "asa" not in repr(s)
