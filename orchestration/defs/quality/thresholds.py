"""The quality gates' thresholds, read and validated with every other setting in
`orchestration.lib.settings`; re-exported here for the gates that import them."""

from orchestration.lib.settings import Thresholds

__all__ = ["Thresholds"]
