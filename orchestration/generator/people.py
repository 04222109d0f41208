"""Fake shoppers: one stable identity per user index, derived from the seed alone."""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass

from .catalog import CITIES, COMPOUNDS, GIVEN_CHARS, ROADS, SURNAMES


@dataclass(frozen=True)
class Buyer:
    account: str
    name: str
    mobile: str
    address: str


class People:
    """Users are indices into a pool; identities are derived on demand so memory stays flat."""

    def __init__(self, seed: int, pool_size: int) -> None:
        self.seed = seed
        self.pool_size = pool_size
        self._key = f"redcat-users-{seed}".encode()

    def user_key(self, user: int) -> str:
        digest = hashlib.blake2b(user.to_bytes(8, "big"), digest_size=8, key=self._key)
        return "u_" + digest.hexdigest()

    def buyer(self, user: int, platform: str) -> Buyer:
        # Same person on both platforms, but each platform has its own account name.
        rng = random.Random(f"{self.seed}:person:{user}")
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2, 2))))
        mobile = "1" + rng.choice("3456789") + "".join(rng.choices(string.digits, k=9))
        city, districts = rng.choice(CITIES)
        address = f"{city}{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
        if rng.random() < 0.6:
            address += (
                f"{rng.choice(COMPOUNDS)}{rng.randint(1, 30)}栋"
                f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
            )
        handle = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 8)))
        if rng.random() < 0.7:
            handle += str(rng.randint(1, 9999))
        prefix = "tb_" if platform == "tmall" else "jd_"
        return Buyer(prefix + handle, name, mobile, address)
