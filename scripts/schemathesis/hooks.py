"""Schemathesis hooks for Pontis: every request gets a fresh demo token (tokens are single-use).

Tokens come from the file named by PONTIS_TOKENS (one per line, minted by scripts/schemathesis.sh
with the demo hospital system of the node's country); when it runs out, more are minted.
"""
import json
import os
import subprocess
import threading
import urllib.parse
import urllib.request

import schemathesis
from hypothesis import strategies as st

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


GRUBER = "urn:oid:1.2.40.0.10.1.4.3.1|1238140358"
_known: dict[str, str] | None = None


def _get(path: str) -> dict:
    request = urllib.request.Request(os.environ["PONTIS_AUD"] + path, headers={"Authorization": f"Bearer {_next_token()}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _known_ids() -> dict[str, str]:
    """Ids of a seed patient, their document and a Consent, so that generated requests reach stored data."""
    global _known
    if _known is None:
        _known = {}
        try:
            found = _get("/Patient?identifier=" + urllib.parse.quote(GRUBER))
            patient = found["entry"][0]["resource"]["id"]
            _known["Patient"] = patient
            _known["Bundle"] = _get(f"/Patient/{patient}/$summary")["id"]
            consents = _get(f"/Consent?patient={patient}")
            if consents.get("entry"):
                _known["Consent"] = consents["entry"][0]["resource"]["id"]
        except Exception:  # noqa: BLE001 - without them the run still fuzzes, only less deep
            pass
    return _known


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    """Half the time, a stored resource's id (and its first version) instead of a generated one."""
    if not path_parameters or "id" not in path_parameters or ctx.operation is None:
        return st.just(path_parameters)
    parts = ctx.operation.path.strip("/").split("/")
    known = _known_ids().get(parts[1] if len(parts) > 1 else "")
    if known is None:
        return st.just(path_parameters)
    real = {**path_parameters, "id": known, **({"vid": 1} if "vid" in path_parameters else {})}
    return st.sampled_from([path_parameters, real])


@schemathesis.hook
def flatmap_query(ctx, query):
    """Half the time, a seed patient's identifier in `identifier`, so that searches and $summary find someone."""
    if not query or "identifier" not in query or ctx.operation is None or not ctx.operation.path.startswith("/fhir/Patient"):
        return st.just(query)
    return st.sampled_from([query, {**query, "identifier": GRUBER}])
