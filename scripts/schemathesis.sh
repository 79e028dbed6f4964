#!/usr/bin/env bash
# Property-based API testing of a running node from its own OpenAPI description (issue 15):
# schemathesis (PyPI) generates requests from /openapi.json, every one with a fresh demo token,
# and checks that no answer is a 5xx or contradicts the description (status, content type,
# body schema, Allow on 405, auth not ignored). Bounded (fixed seed, examples per operation and a
# time budget), on loopback only, against a node on the embedded store with the seed loaded.
#   scripts/schemathesis.sh                 (ST_MAX_EXAMPLES=25 ST_MAX_TIME=240 ST_SEED=20260101)
set -euo pipefail
cd "$(dirname "$0")/.."

SEED="${ST_SEED:-20260101}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-25}"
MAX_TIME="${ST_MAX_TIME:-240}"
VERSION=4.32.5
VENV=.cache/schemathesis-venv

# Python 3.12 or later where there is one: under 3.11.7 schemathesis' generator of arbitrary JSON
# bodies hit a CPython error ("AST constructor recursion depth mismatch").
pick_python() {
  for p in "${PYTHON:-}" python3.13 python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 python3; do
    [ -n "$p" ] && "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2> /dev/null && { echo "$p"; return; }
  done
  echo python3
}
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$VERSION"; then
  PY="$(pick_python)"
  echo "== installing schemathesis $VERSION into $VENV ($("$PY" --version))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
[ -f dist/src/main.js ] || npm run build

PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
BASE="http://127.0.0.1:$PORT/fhir"
WORK="$(mktemp -d)"
LOG="$WORK/node.log"
PORT="$PORT" HOST=127.0.0.1 PONTIS_COUNTRY=AT PONTIS_BASE_URL="$BASE" LOG_LEVEL=warn \
  PONTIS_LIMIT_PER_REQUESTER=0 PONTIS_LIMIT_PER_PATIENT=0 \
  node dist/src/main.js > "$LOG" 2>&1 &
NODE_PID=$!
trap 'kill "$NODE_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null || { cat "$LOG"; exit 1; }

node scripts/schemathesis/mint-tokens.mjs "$BASE" 4000 > "$WORK/tokens"
echo "== schemathesis $VERSION against $BASE (seed $SEED, $MAX_EXAMPLES examples per operation, at most ${MAX_TIME}s)"
set +e
PYTHONPATH=scripts/schemathesis SCHEMATHESIS_HOOKS=hooks PONTIS_TOKENS="$WORK/tokens" PONTIS_AUD="$BASE" \
  PONTIS_MINT_SCRIPT=scripts/schemathesis/mint-tokens.mjs \
  "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
  --seed "$SEED" \
  --generation-database none \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --phases examples,coverage,fuzzing \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --workers 2 \
  --request-timeout 20 \
  --no-color \
  --suppress-health-check all
status=$?
set -e
if grep -q '"level":50' "$LOG"; then
  echo "== the node logged errors:"; grep '"level":50' "$LOG" | head -20
  status=1
fi
exit $status
