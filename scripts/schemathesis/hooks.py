"""Schemathesis hooks for Pontis: every request gets a fresh demo token (tokens are single-use).

Tokens come from the file named by PONTIS_TOKENS (one per line, minted by scripts/schemathesis.sh
with the demo hospital system of the node's country); when it runs out, more are minted.
"""
import os
import subprocess
import threading

import schemathesis

_lock = threading.Lock()
_tokens: list[str] = []


def _refill() -> None:
    minted = subprocess.run(
        ["node", os.environ["PONTIS_MINT_SCRIPT"], os.environ["PONTIS_AUD"], "2000"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    _tokens.extend(minted)


def _next_token() -> str:
    with _lock:
        if not _tokens:
            path = os.environ.get("PONTIS_TOKENS")
            if path and os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    _tokens.extend(f.read().split())
                os.remove(path)
            if not _tokens:
                _refill()
        return _tokens.pop()


@schemathesis.auth(refresh_interval=None)
class PontisDemoToken:
    """A fresh token of the demo hospital system per request."""

    def get(self, case, ctx):
        return _next_token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
