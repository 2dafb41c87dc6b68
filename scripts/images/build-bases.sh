#!/usr/bin/env bash
# Builds the local base images the image tests and benchmarks use in place of the official
# python/node images (which this machine cannot pull):
#   gkebg-local/debian:bookworm  debootstrap --variant=minbase bookworm, with the host CA bundle
#   gkebg-local/python:bookworm  + Debian's python3 and python3-venv
#   gkebg-local/node:bookworm    + Debian's nodejs
# The Debian mirror is read from this machine's apt sources at run time (never written here).
# Images that exist with the current recipe (label gkebg.recipe) are reused; FORCE=1 rebuilds.
# Needs root (debootstrap) and a running Docker engine.
set -euo pipefail
cd "$(dirname "$0")/../.."

RECIPE=$(sha256sum scripts/images/build-bases.sh | cut -c1-16)
DEBIAN_IMAGE=gkebg-local/debian:bookworm
PYTHON_IMAGE=gkebg-local/python:bookworm
NODE_IMAGE=gkebg-local/node:bookworm
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

# drop_old IMAGE_ID NAME: removes the image NAME pointed to before a rebuild (best effort: an
# old image still used by a container stays).
drop_old() {
  if [ -n "$1" ] && [ "$1" != "$(docker image inspect -f '{{.Id}}' "$2")" ]; then
    docker rmi "$1" >/dev/null 2>&1 || true
  fi
}

have_current() {
  [ "${FORCE:-0}" != 1 ] &&
    [ "$(docker image inspect -f '{{index .Config.Labels "gkebg.recipe"}}' "$1" 2>/dev/null)" = "$RECIPE" ]
}

# Prints the URI of the first apt source that serves SUITE (deb822 .sources first, then the
# one-line format), e.g. the main archive for "bookworm", the security archive for
# "bookworm-security".
apt_uri_for() {
  local suite=$1 uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    uri=$(awk -v s="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        u = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { split($i, a, /[ \t]+/); u = a[2] }
          if ($i ~ /^Suites:/) { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 }
          if ($i ~ /^Enabled:[ \t]*no/) ok = 0
        }
        if (ok && u != "") { print u; exit }
      }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  if [ -e /etc/apt/sources.list ]; then
    uri=$(awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }' /etc/apt/sources.list)
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  fi
  return 1
}

build_debian() {
  have_current "$DEBIAN_IMAGE" && { echo "reusing $DEBIAN_IMAGE"; return 0; }
  local mirror security rootfs old
  old=$(docker image inspect -f '{{.Id}}' "$DEBIAN_IMAGE" 2>/dev/null || true)
  mirror=$(apt_uri_for bookworm) || {
    echo "no apt source for bookworm in /etc/apt: cannot pick a Debian mirror" >&2
    exit 1
  }
  security=$(apt_uri_for bookworm-security || true)
  rootfs=$(mktemp -d /var/tmp/gkebg-rootfs.XXXXXX)
  echo "debootstrap bookworm (minbase) from the host's apt mirror"
  mkdir -p /var/cache/gkebg-debootstrap
  debootstrap --variant=minbase --cache-dir=/var/cache/gkebg-debootstrap \
    bookworm "$rootfs" "$mirror" >/var/tmp/gkebg-debootstrap.log 2>&1 || {
    tail -20 /var/tmp/gkebg-debootstrap.log >&2
    rm -rf "$rootfs"
    exit 1
  }
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -f "$rootfs/etc/apt/sources.list"
  # The host's bundle holds the CA that HTTPS goes through here, so pip and npm work inside.
  mkdir -p "$rootfs/etc/ssl/certs"
  cp "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # Like the official slim images: no docs, man pages or translations (now or in later
  # installs), no apt caches. Smaller bases make the registry round trip of the tests faster.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    'path-include /usr/share/locale/locale.alias' >"$rootfs/etc/dpkg/dpkg.cfg.d/90-gkebg-slim"
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/tmp/*
  tar -C "$rootfs" --numeric-owner -c . |
    docker import -c "LABEL gkebg.recipe=$RECIPE" -c 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
  drop_old "$old" "$DEBIAN_IMAGE"
  echo "built $DEBIAN_IMAGE"
}

# build_runtime IMAGE PACKAGES...: the Debian base plus PACKAGES from the mirror.
build_runtime() {
  local image=$1
  shift
  have_current "$image" && { echo "reusing $image"; return 0; }
  local ctx old
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  ctx=$(mktemp -d)
  cp "$CA_BUNDLE" "$ctx/ca-certificates.crt"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $* >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \\
    /var/log/*.log /var/log/apt/*
# Installing ca-certificates (a dependency of some packages) rewrites the bundle: put the
# host's back so HTTPS through this machine's CA keeps working.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL gkebg.recipe=$RECIPE
EOF
  docker build -q --network host -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
  drop_old "$old" "$image"
  echo "built $image"
}

build_debian
build_runtime "$PYTHON_IMAGE" python3 python3-venv
build_runtime "$NODE_IMAGE" nodejs
