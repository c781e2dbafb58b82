"""Imports (outlet lists, verdict archives) and exports (CSV, ClaimReview JSON-LD).

The outlet import is in ``outlet_import``, the verdict import in ``verdict_import``, what they
share in ``importing``, and the exports in ``exports``.
"""

from __future__ import annotations

from service.interchange.outlet_import import OutletImport
from service.interchange.verdict_import import VerdictImport


class ImportService(OutletImport, VerdictImport):
    """Both imports on one session (what the router and the CLI use)."""
