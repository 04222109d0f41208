"""Sample dumps of the six redcat sources, with the truth they were built from.

Self-contained on purpose: it imports nothing from the pipeline it is used to test.
"""

from .simulation import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
