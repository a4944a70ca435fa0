"""Real AWS-signed SNS messages with the certificates that signed them (copied from the project's
shared reference folder into tests/data so the suite needs nothing outside the repository)."""

from __future__ import annotations

from pathlib import Path

SNS_VECTOR_DIR = Path(__file__).resolve().parent / "data" / "sns_vectors"
SNS_VECTORS = sorted(SNS_VECTOR_DIR.glob("*.json"))

# A guard against an empty glob silently turning parametrised tests into no tests.
assert len(SNS_VECTORS) == 19, f"expected the 19 SNS vectors in {SNS_VECTOR_DIR}"
