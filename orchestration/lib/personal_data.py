"""Buyer accounts become keyed hashes before anything is written (contract: Personal data)."""

from __future__ import annotations

import hashlib
import hmac


def buyer_key(account: str | None, secret: bytes) -> str | None:
    if account is None or account == "":
        return None
    return hmac.new(secret, account.encode("utf-8"), hashlib.sha256).hexdigest()
