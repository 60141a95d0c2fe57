"""Who is asking: a bearer token names one field worker (VEIVISER_FIELD_TOKENS)."""

from __future__ import annotations

import hmac

from services.field.errors import NotAuthenticated, NotYours

__all__ = ["worker_of", "require_same"]


def worker_of(authorization: str, tokens: dict[str, str]) -> str:
    """The worker whose token is in 'Bearer <token>'; NotAuthenticated when missing or unknown."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("no bearer token", "send 'Authorization: Bearer <your token>' "
                               "(the page asks for it once and keeps it)")
    found = None
    for known, worker in tokens.items():  # compare with every token in constant time
        if hmac.compare_digest(known.encode(), token.strip().encode()):
            found = worker
    if found is None:
        raise NotAuthenticated("the token is not known", "use the token your office gave you; ask it for a new "
                               "one if it was changed")
    return found


def require_same(worker: str, asked: str) -> None:
    """A worker reads and acts on their own route only."""
    if worker != asked:
        raise NotYours(f"your token belongs to worker {worker!r}; it cannot read or change the route of worker "
                       f"{asked!r}",
                       f"ask for /v1/workers/{worker}/... (your own route)")
