# shellcheck shell=bash
# The real tier's programs (tests/real), built from our own Go modules into .tools/bin
# (git-ignored): the Pulumi CLI, etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# and kwok from tools/go.mod; the Kubernetes provider from tools/kubernetes-provider/go.mod and
# Pulumi's YAML language host from tools/yaml-host/go.mod (each its own build list: they need
# older Pulumi SDKs and Kubernetes clients than the others). etcd is
# the 3.6 that Kubernetes 1.36 is built and tested with, not Debian's 3.4; tools/README.md says
# why each version.
# Sourced by scripts/install.sh.
#
# Reuse: a stamp named after the hash of the modules' go.mod and go.sum, this script and
# `go version` marks a finished build; with that stamp and every binary present nothing is built.
# Otherwise `go build` runs with the go command's own caches (GOCACHE, GOMODCACHE), which it keeps
# between runs on one machine, so a changed module only recompiles what changed. Builds run at
# nice 19: they take both cores for a long while when cold (bench/README.md, Go tools).
#
# The versions a binary reports come from the linker (-X), as in each project's own release
# build; they are read from the modules' build lists, so they cannot drift from go.mod.
# Under CI=true a missing go command or a failed build fails the install; elsewhere the real
# tier then skips and says why (tests/prerequisites.py).
go_tools_bin=.tools/bin
go_tools=(pulumi etcd kube-apiserver kube-controller-manager kube-scheduler kwok
  pulumi-resource-kubernetes pulumi-language-yaml)
# The Kubernetes provider's module has no version tags: its go.mod names the commit of the
# release tag as a pseudo-version, and this is that release.
go_tools_k8s_provider_commit=f47bc2d6f199
go_tools_k8s_provider_version=4.25.0

if ! command -v go >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: no go command: the real tier (tests/real) needs the Go toolchain to build tools/" >&2
    return 1
  fi
  echo "warning: no go command here; the real tier (pytest -m real) will be skipped"
  return 0
fi

go_tools_stamp="$go_tools_bin/.built-$(
  {
    cat tools/go.mod tools/go.sum tools/kubernetes-provider/go.mod tools/kubernetes-provider/go.sum
    cat tools/yaml-host/go.mod tools/yaml-host/go.sum
    cat scripts/install.d/50-go-tools.sh
    go version
  } | sha256sum | cut -c1-16
)"
go_tools_missing=0
for t in "${go_tools[@]}"; do
  [ -x "$go_tools_bin/$t" ] || go_tools_missing=1
done

if [ -e "$go_tools_stamp" ] && [ "$go_tools_missing" -eq 0 ]; then
  echo "go tools: up to date in $go_tools_bin"
else
  go_tools_start=$SECONDS
  mkdir -p "$go_tools_bin"
  # The build runs in a subshell with errexit; not as an `if` condition, where bash ignores
  # errexit inside it and a failed step would go unnoticed.
  case $- in *e*) go_tools_errexit=1 ;; *) go_tools_errexit=0 ;; esac
  set +e
  (
    set -euo pipefail
    # Never a toolchain download, never a silent go.mod/go.sum edit, no stamp of this
    # repository's commit in upstream programs; static binaries like the projects' release
    # builds (CGO_ENABLED=0).
    export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -trimpath -buildvcs=false"
    out=$(cd "$go_tools_bin" && pwd)
    cd tools
    ver() { go list -m -f '{{.Version}}' "$1"; }
    pulumi=$(ver github.com/pulumi/pulumi/pkg/v3)
    kube=$(ver k8s.io/kubernetes)
    minor=${kube#v1.}
    minor=${minor%%.*}
    ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    done
    echo "go tools: building pulumi $pulumi, etcd $(ver go.etcd.io/etcd/server/v3)," \
      "Kubernetes $kube, kwok $(ver sigs.k8s.io/kwok)"
    nice -n 19 go build -ldflags "$ldflags" -o "$out/" tool
    # go.etcd.io/etcd/server/v3 is etcd's main package: the go command names its binary "server".
    mv "$out/server" "$out/etcd"

    cd kubernetes-provider
    provider=$(ver github.com/pulumi/pulumi-kubernetes/provider/v4)
    case "$provider" in
      *-"$go_tools_k8s_provider_commit") ;;
      *)
        echo "error: tools/kubernetes-provider requires provider $provider, but" \
          "50-go-tools.sh names release $go_tools_k8s_provider_version at" \
          "$go_tools_k8s_provider_commit: update both together" >&2
        exit 1
        ;;
    esac
    # The published module lacks what its main package embeds (schema-embed.json, the schema
    # with the release's version): upstream's build makes it with the package's own
    # `go generate` step. So the package is copied from the module cache into the git-ignored
    # gen/, that step runs there, and the copy is built: upstream's code, unchanged.
    echo "go tools: building pulumi-resource-kubernetes $go_tools_k8s_provider_version"
    src=$(go list -e -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes)
    rm -rf gen
    mkdir gen
    cp -R "$src" gen/pulumi-resource-kubernetes
    chmod -R u+w gen
    (cd gen/pulumi-resource-kubernetes && VERSION=$go_tools_k8s_provider_version go run generate.go)
    nice -n 19 go build \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$go_tools_k8s_provider_version" \
      -o "$out/pulumi-resource-kubernetes" ./gen/pulumi-resource-kubernetes

    cd ../yaml-host
    yaml=$(ver github.com/pulumi/pulumi-yaml)
    echo "go tools: building pulumi-language-yaml $yaml"
    nice -n 19 go build -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml" \
      -o "$out/" tool
  )
  go_tools_rc=$?
  [ "$go_tools_errexit" -eq 0 ] || set -e
  if [ "$go_tools_rc" -eq 0 ]; then
    rm -f "$go_tools_bin"/.built-*
    touch "$go_tools_stamp"
    echo "go tools: built in $((SECONDS - go_tools_start)) s into $go_tools_bin"
  elif [ "${CI:-}" = "true" ]; then
    echo "error: building the Go tools failed (see above)" >&2
    return 1
  else
    echo "warning: building the Go tools failed; the real tier (pytest -m real) will be skipped"
  fi
fi
