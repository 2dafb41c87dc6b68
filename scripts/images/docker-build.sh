#!/usr/bin/env bash
# `docker build` with BuildKit, whichever docker CLI here offers it; arguments as for docker build.
# Why: every image is built with the context apps/ and its own <folder>/Dockerfile.dockerignore
# allow-list, which only BuildKit reads; the legacy builder reads apps/.dockerignore (the union of
# all allow-lists) instead, so it would send every image's files to every build.
# Used by tests/images and bench/apps.
set -euo pipefail

# The buildx plugin: `docker build` of a CLI from 23.0 on is buildx itself.
if docker buildx version >/dev/null 2>&1; then
  exec docker buildx build --load "$@"
fi
# Without buildx, a CLI before 23.0 (such as Debian bookworm's docker.io) has BuildKit built in,
# switched on by DOCKER_BUILDKIT=1. A newer CLI without buildx has only the legacy builder.
seen=""
for cli in "$(command -v docker || true)" /usr/bin/docker; do
  [ -x "$cli" ] || continue
  case " $seen " in *" $cli "*) continue ;; esac
  seen="$seen $cli"
  version=$("$cli" version --format '{{.Client.Version}}' 2>/dev/null || true)
  major=${version%%.*}
  if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -lt 23 ]; then
    DOCKER_BUILDKIT=1 exec "$cli" build "$@"
  fi
done
echo "docker-build.sh: no docker CLI with BuildKit here (checked:${seen:- none}); install the" \
  "buildx plugin or Debian's docker.io. The legacy builder ignores Dockerfile.dockerignore." >&2
exit 1
