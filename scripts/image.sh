#!/usr/bin/env bash
# Builds the lagwise container image from a binary built on the host.
#
#   scripts/image.sh [TAG] [BINARY]
#
# TAG defaults to lagwise:latest; BINARY to ./lagwise, which must be a
# static linux build (`make docker` builds it first). The build context is a
# temporary directory holding only the Dockerfile, the binary, a minimal
# /etc/passwd and /etc/group and the empty /data, so nothing else of the
# working tree is sent to the engine, and no base image is pulled (the
# Dockerfile starts FROM scratch).
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-lagwise:latest}
bin=${2:-./lagwise}

if [ ! -x "$bin" ]; then
  echo "image.sh: no binary at $bin; build it with: make docker" >&2
  exit 2
fi
if command -v file >/dev/null && ! file -L "$bin" | grep -q 'statically linked'; then
  echo "image.sh: $bin is not statically linked; build it with CGO_ENABLED=0" >&2
  exit 2
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/etc" "$ctx/data"
cp Dockerfile "$ctx/Dockerfile"
cp "$bin" "$ctx/lagwise"
chmod 0755 "$ctx/lagwise" "$ctx/data"
cat >"$ctx/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
lagwise:x:10001:10001:lagwise:/data:/sbin/nologin
PASSWD
cat >"$ctx/etc/group" <<'GROUP'
root:x:0:
lagwise:x:10001:
GROUP
chmod 0644 "$ctx/etc/passwd" "$ctx/etc/group"

docker build --pull=false -t "$tag" "$ctx"
