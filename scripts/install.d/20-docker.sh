# shellcheck shell=bash
# Image tier (tests/images) and app benchmarks (bench/apps): a Docker engine, debootstrap for the
# local base images and a local registry, started on 127.0.0.1 when not already running.
# Sourced by scripts/install.sh (apt_need from scripts/lib.sh). wrk is for the benchmarks only,
# so CI does not install it. Under CI=true a missing engine fails the install; elsewhere the
# image tier then skips and says why.
apt_need docker.io debootstrap docker-registry curl
[ "${CI:-}" = "true" ] || apt_need wrk
if ! bash scripts/images/start-engine.sh; then
  [ "${CI:-}" = "true" ] && return 1
  echo "warning: no Docker engine here; the image tier (pytest -m image) will be skipped"
fi
