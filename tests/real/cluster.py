"""A Kubernetes control plane on loopback for the real tier: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok (fake nodes, pods without a kubelet), all on
127.0.0.1 with fresh certificates, in one temporary folder that ``stop`` removes.

The binaries come from ``.tools/bin`` (scripts/install.d/50-go-tools.sh builds them from
tools/go.mod). ``python -m tests.real.cluster`` (``make cluster``) starts one for people, prints
the kubeconfig path and stops on Ctrl-C.

What the cluster is: the API server with its default admission plugins, RBAC and strict field
validation available to every client; the controllers a kubelet-less cluster can run
(Deployments, ReplicaSets, Jobs, endpoints, service accounts, garbage collection, node
lifecycle); the scheduler; kwok's stages (tests/real/kwok-stages.yaml) in place of kubelets; the
Gateway API CRDs of the standard channel (vendor/gateway-api), so the API server validates
Gateway objects itself, CEL rules included. Not there: a container runtime, a network (pod and
node IPs are only names in objects), a cloud (a LoadBalancer Service gets no address).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
STAGES = Path(__file__).resolve().parent / "kwok-stages.yaml"
GATEWAY_API_VERSION = "v1.4.1"
GATEWAY_API_CRDS = ROOT / "vendor" / "gateway-api" / GATEWAY_API_VERSION / "standard-install.yaml"
#: A container env value that marks a pod broken (tests/real/kwok-stages.yaml).
FAIL_MARKER = "kwok-fail"
NODES = 3
SERVICE_CIDR = "10.96.0.0/16"
CONTEXT = "gke-bluegreen-real"
PREFIX = "gkebg-real-"
INSTALL_HINT = "bash scripts/install.sh (scripts/install.d/50-go-tools.sh)"


class Unavailable(Exception):
    """A piece the control plane needs is not on this machine; the message names each."""


class StartError(Exception):
    """A component did not come up; the message carries the tail of its log."""


def binaries() -> dict[str, Path]:
    """Every binary the control plane runs, or Unavailable naming each one that is missing."""
    wanted = {
        name: TOOLS_BIN / name
        for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
    }
    missing = [f"{name} ({path})" for name, path in wanted.items() if not os.access(path, os.X_OK)]
    if not GATEWAY_API_CRDS.is_file():
        missing.append(f"the Gateway API CRDs ({GATEWAY_API_CRDS})")
    if missing:
        raise Unavailable(
            f"missing for the loopback control plane: {', '.join(missing)}; install: {INSTALL_HINT}"
        )
    return wanted


def _scratch() -> str | None:
    """Memory-backed /dev/shm where there is one: etcd fsyncs every write, and test data need
    no disk."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- certificates --------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files the components read."""

    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    sa_key: Path
    sa_pub: Path
    clients: Mapping[str, tuple[Path, Path]]


def make_pki(folder: Path) -> Pki:
    """A CA; the API server's serving certificate for 127.0.0.1 and the in-cluster names; a
    client certificate per component (the admin in system:masters); the service-account signing
    key pair. Valid for a day: each control plane makes its own."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gke-bluegreen-real-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        name: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
    ) -> tuple[bytes, bytes]:
        key = _key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return _pem_cert(builder.sign(ca_key, hashes.SHA256())), _pem_key(key)

    def write(name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        path.chmod(0o600)
        return path

    service_ip = ipaddress.ip_address(next(ipaddress.ip_network(SERVICE_CIDR).hosts()).compressed)
    dns = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(service_ip)]
    serving = leaf(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        ExtendedKeyUsageOID.SERVER_AUTH,
        sans,
    )
    # The identities the bootstrap RBAC policy knows (admin: system:masters).
    identities = {
        "admin": ("kubernetes-admin", "system:masters"),
        "controller-manager": ("system:kube-controller-manager", None),
        "scheduler": ("system:kube-scheduler", None),
    }
    clients: dict[str, tuple[Path, Path]] = {}
    for who, (cn, org) in identities.items():
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        cert, key = leaf(x509.Name(attrs), ExtendedKeyUsageOID.CLIENT_AUTH, [])
        clients[who] = (write(f"{who}.crt", cert), write(f"{who}.key", key))

    sa_key = _key()
    return Pki(
        ca_cert=write("ca.crt", _pem_cert(ca_cert)),
        ca_key=write("ca.key", _pem_key(ca_key)),
        serving_cert=write("apiserver.crt", serving[0]),
        serving_key=write("apiserver.key", serving[1]),
        sa_key=write("sa.key", _pem_key(sa_key)),
        sa_pub=write(
            "sa.pub",
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        ),
        clients=clients,
    )


def kubeconfig(server: str, ca: Path, cert: Path, key: Path, user: str) -> str:
    """A kubeconfig with everything inline, so it stays valid wherever it is copied."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": CONTEXT,
                    "cluster": {"server": server, "certificate-authority-data": b64(ca)},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate-data": b64(cert),
                        "client-key-data": b64(key),
                    },
                }
            ],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": user}}],
            "current-context": CONTEXT,
        },
        sort_keys=False,
    )


# --- processes -----------------------------------------------------------------------------


@dataclass
class Component:
    name: str
    argv: list[str]
    log: Path
    env: Mapping[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            # Its own session: stop() signals the whole group, whatever the binary forks.
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(self.env) if self.env is not None else None,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # The group may outlive its leader (a forked child): make sure nothing of it is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


@dataclass
class ControlPlane:
    """One control plane. ``start()`` returns when nodes are Ready, the default service account
    exists and the Gateway API CRDs are established; ``stop()`` ends every process and removes
    the folder (also after a failed start)."""

    nodes: int = NODES
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix=PREFIX, dir=_scratch()))
    )
    components: list[Component] = field(default_factory=list)
    server: str = ""
    kubeconfig: Path = field(init=False)
    pki: Pki | None = None
    _session: requests.Session | None = None
    _discovered: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kubeconfig = self.workdir / "kubeconfig"

    # -- lifecycle --

    def start(self, timeout: float = 180.0) -> ControlPlane:
        try:
            self._start(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, deadline: float) -> None:
        bins = binaries()
        logs = self.workdir / "logs"
        logs.mkdir()
        pki = self.pki = make_pki(self.workdir / "pki")

        etcd_client, etcd_peer = free_port(), free_port()
        etcd = Component(
            "etcd",
            [
                str(bins["etcd"]),
                "--name=default",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_client}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_client}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-cluster=default=http://127.0.0.1:{etcd_peer}",
                "--log-level=warn",
                # Test data: an fsync per write only slows the suite.
                "--unsafe-no-fsync",
            ],
            logs / "etcd.log",
        )
        self._launch(etcd)
        self._wait(
            etcd, deadline, lambda: _http_ok(f"http://127.0.0.1:{etcd_client}/health"), "health"
        )

        port = free_port()
        self.server = f"https://127.0.0.1:{port}"
        apiserver = Component(
            "kube-apiserver",
            [
                str(bins["kube-apiserver"]),
                f"--etcd-servers=http://127.0.0.1:{etcd_client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.workdir / 'apiserver-certs'}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                # No Endpoints for the `kubernetes` Service: its address would be 127.0.0.1,
                # which Endpoints validation refuses, and no pod here can reach it anyway.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                "--v=1",
            ],
            logs / "kube-apiserver.log",
        )
        self._launch(apiserver)
        admin_cert, admin_key = pki.clients["admin"]
        self._session = _session()
        self._session.verify = str(pki.ca_cert)
        self._session.cert = (str(admin_cert), str(admin_key))
        self._wait(apiserver, deadline, lambda: self._ok("/readyz"), "/readyz")
        self.kubeconfig.write_text(
            kubeconfig(self.server, pki.ca_cert, admin_cert, admin_key, "admin")
        )
        self.kubeconfig.chmod(0o600)

        def component_kubeconfig(who: str) -> Path:
            cert, key = pki.clients[who]
            path = self.workdir / f"{who}.kubeconfig"
            path.write_text(kubeconfig(self.server, pki.ca_cert, cert, key, who))
            path.chmod(0o600)
            return path

        kcm_config = component_kubeconfig("controller-manager")
        kcm = Component(
            "kube-controller-manager",
            [
                str(bins["kube-controller-manager"]),
                f"--kubeconfig={kcm_config}",
                f"--authentication-kubeconfig={kcm_config}",
                f"--authorization-kubeconfig={kcm_config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--leader-elect=false",
                "--controllers=*",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki.sa_key}",
                f"--root-ca-file={pki.ca_cert}",
                f"--cluster-signing-cert-file={pki.ca_cert}",
                f"--cluster-signing-key-file={pki.ca_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--allocate-node-cidrs=false",
                "--profiling=false",
                "--v=1",
            ],
            logs / "kube-controller-manager.log",
        )
        sched_config = component_kubeconfig("scheduler")
        scheduler = Component(
            "kube-scheduler",
            [
                str(bins["kube-scheduler"]),
                f"--kubeconfig={sched_config}",
                f"--authentication-kubeconfig={sched_config}",
                f"--authorization-kubeconfig={sched_config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
            logs / "kube-scheduler.log",
        )
        kwok_home = self.workdir / "kwok-home"
        kwok_home.mkdir()
        kwok = Component(
            "kwok",
            [
                str(bins["kwok"]),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={STAGES}",
                "--manage-all-nodes=true",
                "--node-lease-duration-seconds=40",
                "--cidr=10.244.0.1/16",
            ],
            logs / "kwok.log",
            # kwok also reads ~/.kwok/kwok.yaml when present: never a user's.
            env={**os.environ, "HOME": str(kwok_home)},
        )
        for component in (kcm, scheduler, kwok):
            self._launch(component)

        self.apply_file(GATEWAY_API_CRDS)
        for i in range(self.nodes):
            self.create_node(f"kwok-node-{i}")

        def ready() -> bool:
            self._check_alive()
            nodes = self.get("/api/v1/nodes")["items"]
            ready_nodes = [n for n in nodes if _condition(n, "Ready") == "True"]
            crds = self.get(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                params={"labelSelector": ""},
            )["items"]
            gateway = [c for c in crds if c["spec"]["group"] == "gateway.networking.k8s.io"]
            established = all(_condition(c, "Established") == "True" for c in gateway)
            sa = self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
            return (
                len(ready_nodes) == self.nodes
                and bool(gateway)
                and established
                and sa.status_code == 200
            )

        self._until(deadline, ready, "nodes Ready, default service account, CRDs established")

    def stop(self) -> None:
        """Ends every component (newest first) and removes the folder."""
        for component in reversed(self.components):
            component.stop()
        if self._session is not None:
            self._session.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def pids(self) -> list[int]:
        return [c.proc.pid for c in self.components if c.proc is not None]

    # -- API --

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        assert self._session is not None, "control plane not started"
        kwargs.setdefault("timeout", 30)
        return self._session.request(method, self.server + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        response.raise_for_status()
        return response.json()

    def create(self, path: str, body: Mapping[str, Any], **params: str) -> requests.Response:
        return self.request("POST", path, json=body, params=params)

    def apply_file(self, path: Path) -> None:
        """Applies each object of a YAML file (server-side apply, strict)."""
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                response = self.apply(doc)
                if response.status_code >= 300:
                    raise StartError(
                        f"applying {doc['kind']} {doc['metadata']['name']}: {response.text}"
                    )

    def path(self, obj: Mapping[str, Any], namespace: str | None = None) -> str:
        """The URL path of ``obj`` (its kind resolved through API discovery), in ``namespace`` or
        its own when the kind is namespaced."""
        api = obj["apiVersion"]
        base = f"/api/{api}" if "/" not in api else f"/apis/{api}"
        if base not in self._discovered:
            resources = self.get(base)["resources"]
            self._discovered[base] = {
                r["kind"]: (r["name"], r["namespaced"]) for r in resources if "/" not in r["name"]
            }
        kinds = self._discovered[base]
        if obj["kind"] not in kinds:
            raise KeyError(f"the API server serves no {obj['kind']} in {api}")
        plural, namespaced = kinds[obj["kind"]]
        name = obj["metadata"]["name"]
        if not namespaced:
            return f"{base}/{plural}/{name}"
        ns = namespace or obj["metadata"].get("namespace") or "default"
        return f"{base}/namespaces/{ns}/{plural}/{name}"

    def apply(
        self, obj: Mapping[str, Any], namespace: str | None = None, dry_run: bool = False
    ) -> requests.Response:
        """Server-side apply of ``obj`` with strict field validation, as its only manager."""
        params = {
            "fieldManager": "gke-bluegreen-tests",
            "fieldValidation": "Strict",
            "force": "true",
        }
        if dry_run:
            params["dryRun"] = "All"
        path = self.path(obj, namespace)
        body = dict(obj)
        if namespace is not None and "/namespaces/" in path:
            body["metadata"] = {**obj["metadata"], "namespace": namespace}
        return self.request(
            "PATCH",
            path,
            data=yaml.safe_dump(body),
            headers={"Content-Type": "application/apply-patch+yaml"},
            params=params,
        )

    def ready_endpoints(self, namespace: str, service: str) -> set[str]:
        """The addresses of a Service's ready endpoints (its EndpointSlices)."""
        slices = self.get(
            f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
            params={"labelSelector": f"kubernetes.io/service-name={service}"},
        )["items"]
        return {
            address
            for s in slices
            for e in s.get("endpoints") or []
            if e.get("conditions", {}).get("ready")
            for address in e["addresses"]
        }

    def create_node(self, name: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
        }
        response = self.create("/api/v1/nodes", body)
        if response.status_code != 201:
            raise StartError(f"creating node {name}: {response.text}")

    # -- helpers --

    def _launch(self, component: Component) -> None:
        self.components.append(component)
        component.start()

    def _ok(self, path: str) -> bool:
        try:
            return self.request("GET", path, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def _check_alive(self) -> None:
        for component in self.components:
            if not component.alive():
                raise StartError(
                    f"{component.name} exited ({component.proc and component.proc.returncode});"
                    f" last lines of {component.log}:\n{component.tail()}"
                )

    def _wait(self, component: Component, deadline: float, probe: Any, what: str) -> None:
        self._until(deadline, probe, f"{component.name} {what}")

    def _until(self, deadline: float, probe: Any, what: str) -> None:
        while True:
            self._check_alive()
            if probe():
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {c.name}:\n{c.tail(15)}" for c in self.components)
                raise StartError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.25)


def _session() -> requests.Session:
    """A session that ignores the environment: REQUESTS_CA_BUNDLE would otherwise override the
    session's own CA (requests prefers it to ``Session.verify``), and no proxy is wanted."""
    session = requests.Session()
    session.trust_env = False
    return session


def _http_ok(url: str) -> bool:
    try:
        with _session() as session:
            return session.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _condition(obj: Mapping[str, Any], kind: str) -> str | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind:
            return str(cond.get("status"))
    return None


@contextlib.contextmanager
def running(nodes: int = NODES) -> Iterator[ControlPlane]:
    plane = ControlPlane(nodes=nodes)
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


def main() -> int:
    """Starts a control plane, prints its kubeconfig and waits for Ctrl-C (or SIGTERM)."""
    try:
        binaries()
    except Unavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    plane = ControlPlane()
    try:
        started = time.monotonic()
        plane.start()
        print(f"control plane up in {time.monotonic() - started:.1f} s: {plane.server}")
        print(f"kubeconfig: {plane.kubeconfig}")
        print(f"logs: {plane.workdir / 'logs'}")
        print("Ctrl-C stops it and removes that folder.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        return 130
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        plane.stop()


if __name__ == "__main__":
    sys.exit(main())
