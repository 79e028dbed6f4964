#!/usr/bin/env bash
# Builds FerretDB (a MongoDB-wire server on SQLite) into .cache/ferretdb/ferretdb for the storage
# tests and benchmarks, from the Go module proxy. No Docker and no MongoDB binary are needed.
#
# Why not `go install ...@v1.24.2`: the module's zip lacks build/version/version.txt, so the binary
# built that way panics at start; we build from a copy of the module with that file written.
set -euo pipefail
VERSION="${FERRETDB_VERSION:-v1.24.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.cache/ferretdb"
BIN="$OUT/ferretdb"

# No pipes into head/grep -q: with pipefail, an early-closing reader makes the writer die of
# SIGPIPE (exit 141) and fails the script.
built_version() { "$BIN" --version 2>/dev/null || true; }
if [ -x "$BIN" ] && [[ "$(built_version)" == *"version: $VERSION"* ]]; then
  echo "FerretDB $VERSION already built at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "install-ferretdb: Go is needed to build FerretDB (https://go.dev/dl)" >&2; exit 1; }

MODDIR="$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$MODDIR" ] || { echo "install-ferretdb: could not download FerretDB $VERSION" >&2; exit 1; }
SRC="$(mktemp -d)"
trap 'chmod -R u+w "$SRC" 2>/dev/null; rm -rf "$SRC"' EXIT
cp -r "$MODDIR/." "$SRC/"
chmod -R u+w "$SRC"
echo "$VERSION" > "$SRC/build/version/version.txt"
mkdir -p "$OUT"
(cd "$SRC" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN" ./cmd/ferretdb)
info="$("$BIN" --version)"
echo "${info%%$'\n'*}"
