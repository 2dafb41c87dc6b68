"""The programs in .tools/bin are the versions tools/ pins, and say so: the build script sets each
version with the linker as upstream's release builds do, and a binary that reported another (or
"dev") would be one a reader of tools/README.md could not trust."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.prerequisites import unavailable
from tests.real.cluster import ROOT, TOOLS_BIN

pytestmark = pytest.mark.real

GO_MOD = (ROOT / "tools" / "go.mod").read_text()
PROVIDER_GO_MOD = (ROOT / "tools" / "kubernetes-provider" / "go.mod").read_text()
INSTALL_STEP = (ROOT / "scripts" / "install.d" / "50-go-tools.sh").read_text()


def required(go_mod: str, module: str) -> str:
    found = re.search(rf"^\s*{re.escape(module)} (v\S+)", go_mod, re.MULTILINE)
    assert found, f"{module} is not required"
    return found.group(1)


def binary(name: str) -> Path:
    path = TOOLS_BIN / name
    if not os.access(path, os.X_OK):
        unavailable(f"missing: {path}; install: bash scripts/install.sh (50-go-tools.sh)")
    return path


def output(*argv: str | Path) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout + done.stderr


def test_the_pulumi_cli() -> None:
    version = required(GO_MOD, "github.com/pulumi/pulumi/pkg/v3")
    assert required(GO_MOD, "github.com/pulumi/pulumi/sdk/v3") == version
    assert output(binary("pulumi"), "version").strip() == version


@pytest.mark.parametrize("name", ["kube-apiserver", "kube-controller-manager", "kube-scheduler"])
def test_the_kubernetes_programs(name: str) -> None:
    version = required(GO_MOD, "k8s.io/kubernetes")
    assert output(binary(name), "--version").strip() == f"Kubernetes {version}"


def test_the_staging_modules_are_of_the_same_release() -> None:
    minor = required(GO_MOD, "k8s.io/kubernetes").removeprefix("v1.")
    replaced = re.findall(r"^\s*(k8s\.io/[\w-]+) => \1 (v\S+)$", GO_MOD, re.MULTILINE)
    assert len(replaced) > 25
    assert {v for _, v in replaced} == {f"v0.{minor}"}


def test_etcd() -> None:
    version = required(GO_MOD, "go.etcd.io/etcd/server/v3").removeprefix("v")
    assert f"etcd Version: {version}" in output(binary("etcd"), "--version")


def test_kwok() -> None:
    version = required(GO_MOD, "sigs.k8s.io/kwok")
    assert output(binary("kwok"), "--version").startswith(f"kwok version {version} ")


def test_the_kubernetes_provider_reports_its_release() -> None:
    """Asked the way the engine asks (GetPluginInfo over gRPC): the release whose commit the
    pseudo-version names, as the install step records it."""
    pseudo = required(PROVIDER_GO_MOD, "github.com/pulumi/pulumi-kubernetes/provider/v4")
    commit = re.search(r"^go_tools_k8s_provider_commit=(\w+)$", INSTALL_STEP, re.MULTILINE)
    release = re.search(r"^go_tools_k8s_provider_version=([\d.]+)$", INSTALL_STEP, re.MULTILINE)
    assert commit and release
    assert pseudo.endswith(f"-{commit.group(1)}")
    script = (
        "import subprocess, sys, grpc\n"
        "from google.protobuf import empty_pb2\n"
        "from pulumi.runtime.proto import provider_pb2_grpc\n"
        "p = subprocess.Popen([sys.argv[1], '127.0.0.1:1'], stdout=subprocess.PIPE,\n"
        "                     stderr=subprocess.DEVNULL, text=True)\n"
        "try:\n"
        "    port = p.stdout.readline().strip()\n"
        "    stub = provider_pb2_grpc.ResourceProviderStub(\n"
        "        grpc.insecure_channel(f'127.0.0.1:{port}'))\n"
        "    print(stub.GetPluginInfo(empty_pb2.Empty(), timeout=30).version)\n"
        "finally:\n"
        "    p.terminate(); p.wait(10)\n"
    )
    reported = output(sys.executable, "-c", script, binary("pulumi-resource-kubernetes"))
    assert reported.strip() == release.group(1)
