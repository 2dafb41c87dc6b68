"""infra/config/load.py: the top-level keys, the platform switch, and reading the runtime's config
the way the engine hands it over (PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS) through the SDK's
public API."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest
import yaml

from infra import config
from infra.config.load import gke_project
from infra.offline import program, stackfile
from infra.paths import PROJECT_FILE
from infra.settings import ConfigError, GkeTarget, LocalTarget, Settings
from tests.infra.config.cases import (
    DELETE,
    SECRETS,
    base,
    each_refused,
    parsed,
    refused,
    with_value,
)

BAD = [
    ("project", "", "project", "required"),
    ("project", DELETE, "project", "required"),
    ("project", "Hello_Docker", "project", "GCP project id"),
    ("project", "hello-docker\n", "project", "control characters"),
    ("region", "asia northeast1", "region", "GCP region"),
    ("region", "asia-northeast1\n", "region", "control characters"),
    ("platform", "aws", "platform", "gke, local"),
    ("platform", DELETE, "platform", "required"),
    ("kubeContext", "minikube", "kubeContext", "only used by platform local"),
]


test_bad_value_names_key_value_and_what_is_allowed = each_refused(BAD)


def test_local_platform_rejects_gcp_keys() -> None:
    raw = with_value("platform", "local")
    refused(raw, "project", "not used on the local platform")


def test_local_platform_accepts_the_project_files_empty_defaults() -> None:
    raw = with_value("platform", "local")
    for key in ("project", "region", "cluster", "registry"):
        raw[key] = {} if key in ("cluster", "registry") else ""
    raw["kubeContext"] = ""
    target = parsed(raw).target
    assert target == LocalTarget(kube_context=None)


def test_gke_target() -> None:
    target = parsed().target
    assert isinstance(target, GkeTarget)
    assert (target.project, target.region) == ("hello-docker", "asia-northeast1")


@pytest.mark.parametrize("stack", stackfile.stack_names())
def test_every_stack_file_parses(stack: str) -> None:
    merged = stackfile.merged(stack)
    # The program reads its own namespace only (load() skips the engine's `pulumi:` keys).
    values = {
        k.split(":", 1)[1]: v for k, v in merged.values.items() if k.startswith("gke-bluegreen:")
    }
    secrets = values.pop("secrets", None)
    assert config.parse(values, stack, secrets).apps


def _load(values: dict[str, Any], secret_keys: Collection[str] = frozenset()) -> Settings:
    """config.load() run inside the offline harness with exactly this config."""
    full = {f"gke-bluegreen:{k}": v for k, v in values.items()}
    stack_config = stackfile.StackConfig(
        stack="test", values=full, secret_keys=frozenset(f"gke-bluegreen:{k}" for k in secret_keys)
    )
    loaded: list[Settings] = []
    program.run(stack_config, program=lambda: loaded.append(config.load()))
    return loaded[0]


LOCAL = {"platform": "local", "apps": {"kubia": {"source": "apps/kubia"}}}
IMAGEVIEW = {
    "imageview": {
        "source": "apps/imageview/blue",
        "secret": {"name": "apikey", "keys": ["id"]},
    }
}


def test_load_reads_the_runtime_config() -> None:
    s = _load(LOCAL)
    assert isinstance(s.target, LocalTarget) and list(s.apps) == ["kubia"] and s.stack == "test"


def test_load_rejects_unknown_top_level_keys() -> None:
    with pytest.raises(ConfigError, match=r"config clusterr: .*unknown key; allowed: platform"):
        _load({**LOCAL, "clusterr": {}})


def test_load_rejects_secrets_set_without_secret() -> None:
    values = {"platform": "local", "apps": IMAGEVIEW, "secrets": {"imageview": {"id": "asa"}}}
    with pytest.raises(ConfigError, match="must be set with --secret") as caught:
        _load(values)
    assert "asa" not in str(caught.value)
    s = _load(values, {"secrets"})
    assert s.secrets.keys_of("imageview") == ("id",)
    assert "asa" not in repr(s)


@pytest.mark.parametrize("key", ["apps", "platform", "kubeContext"])
def test_load_refuses_a_secret_outside_secrets(key: str) -> None:
    """`--secret` on any other key would be read raw and end up in plaintext: refused, with the
    value never shown."""
    values = {**LOCAL, "kubeContext": "ctx-TOPSECRET"}
    with pytest.raises(ConfigError) as caught:
        _load(values, {key})
    message = str(caught.value)
    assert message.startswith(f"config {key}: [secret] is not valid; is marked secret"), message
    assert "TOPSECRET" not in message and "kubia" not in message


def test_load_accepts_a_number_stored_as_a_secret() -> None:
    values = {"platform": "local", "apps": IMAGEVIEW, "secrets": {"imageview": {"id": 12345}}}
    s = _load(values, {"secrets"})
    assert s.secrets.keys_of("imageview") == ("id",)


DECLARED = yaml.safe_load(PROJECT_FILE.read_text())["config"]


def _outcome(raw: dict[str, Any], secrets: object) -> str:
    try:
        return repr(config.parse(raw, "test", secrets))
    except ConfigError as err:
        return f"error: {err}"


def _local() -> dict[str, Any]:
    return {"platform": "local", "apps": {"kubia": {"source": "apps/kubia"}}}


@pytest.mark.parametrize("key", [k for k, v in DECLARED.items() if "default" in v])
@pytest.mark.parametrize("make", [base, _local], ids=["gke", "local"])
def test_one_source_of_each_default(key: str, make: Any) -> None:
    """Pulumi.yaml declares these defaults and the engine merges them in before the program runs;
    the parser must not keep a default of its own that differs: reading the key unset gives
    exactly what Pulumi.yaml's default gives (or the parser requires the key)."""
    default = DECLARED[key]["default"]
    raw = {k: v for k, v in make().items() if k != key}
    secrets = SECRETS if "imageview" in raw["apps"] else None
    if key == "secrets":
        unset, defaulted = _outcome(raw, None), _outcome(raw, default)
    else:
        unset, defaulted = _outcome(raw, secrets), _outcome({**raw, key: default}, secrets)
    if unset.startswith("error") and "required" in unset:
        return
    assert unset == defaulted, f"{key}: the parser's own default differs from Pulumi.yaml's"


@pytest.mark.parametrize(
    ("stack", "project"), [("dev", "gke-bluegreen-dev"), ("prod", "gke-bluegreen-prod")]
)
def test_gke_project_is_the_project_a_gke_stack_names(stack: str, project: str) -> None:
    values = stackfile.merged(stack).values
    assert gke_project(values) == project


def test_gke_project_is_none_elsewhere_and_empty_when_unset() -> None:
    assert gke_project(stackfile.merged("local").values) is None
    assert gke_project({"gke-bluegreen:platform": "gke"}) == ""
    assert gke_project({}) is None, "the platform comes merged from Pulumi.yaml"
