"""The district template's key: what identifies an issued template, read back at intake.

A leaf of ``data/`` (no imports of its own), so the reader can check a key without importing the
template writer and, through it, the task sheet and the contract (an import cycle).
"""

from __future__ import annotations

#: the template's key (a custom document property): geography, quarter, template version and a
#: checksum of the locked cells (sheet, row, indicator_id, geography_code, period). The sheets are
#: protected without a password, so a district can change a locked cell; the key makes intake
#: refuse such a file instead of storing 330106's figures as 330108's.
KEY_PROPERTY = "ipeval_template_key"
TEMPLATE_VERSION = 1


def locked_digest(cells) -> str:
    """SHA-256 of the locked cells, ``[(sheet, row, indicator_id, geography_code, period), ...]``."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps([list(map(str, c)) for c in cells], ensure_ascii=False).encode()).hexdigest()
