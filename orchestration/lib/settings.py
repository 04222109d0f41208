"""The settings of contract section 5, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BUSINESS_TIME_ZONE = "Asia/Shanghai"

# Documented in the README. Good for sample data only: production refuses to start with it.
DEVELOPMENT_BUYER_KEY_SECRET = "redcat-development-secret-not-for-production"


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    inbox: Path
    warehouse: Path
    published: Path
    buyer_key_secret: bytes
    environment: str

    @classmethod
    def from_env(cls) -> Settings:
        environment = os.environ.get("REDCAT_ENV", "development")
        secret = os.environ.get("REDCAT_BUYER_KEY_SECRET")
        if not secret:
            if environment == "production":
                raise ConfigurationError(
                    "REDCAT_BUYER_KEY_SECRET is not set: production refuses to hash buyer "
                    "accounts with the development key. Set it to the brand's secret salt."
                )
            secret = DEVELOPMENT_BUYER_KEY_SECRET
        return cls(
            inbox=_path("REDCAT_INBOX", "data/inbox"),
            warehouse=_path("REDCAT_WAREHOUSE", "data/warehouse/redcat.duckdb"),
            published=_path("REDCAT_PUBLISHED", "data/warehouse/analytics.duckdb"),
            buyer_key_secret=secret.encode("utf-8"),
            environment=environment,
        )

    def export_for_dbt(self) -> None:
        """dbt runs in another working directory: hand it the same absolute warehouse path."""
        os.environ["REDCAT_WAREHOUSE"] = str(self.warehouse)


def _path(variable: str, default: str) -> Path:
    return Path(os.environ.get(variable) or default).expanduser().resolve()
