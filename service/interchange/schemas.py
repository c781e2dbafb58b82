from __future__ import annotations

from pydantic import Field

from service.schemas import Schema


class OutletImportReport(Schema):
    """What an outlet import did (or, for a dry run, would do); nothing is stored by a dry run."""

    dry_run: bool
    rows: int = Field(description="Data rows read (blank lines are skipped).")
    created: int = Field(description="Outlets that were not known (by slug or web address).")
    updated: int = Field(description="Known outlets whose fields changed.")
    unchanged: int
    ratings_recorded: int = Field(
        description="External ratings stored as outlet records (new, or changed since the last "
        "import from the same source)."
    )
    ignored_columns: list[str] = Field(description="Columns of the file the import does not read.")


class VerdictImportReport(Schema):
    """What a verdict import did (or, for a dry run, would do)."""

    dry_run: bool
    items: int = Field(description="Verdicts read from the file.")
    verdicts_created: int
    duplicates_skipped: int = Field(
        description="Verdicts already stored (same claim, source and decision time)."
    )
    claims_matched: int
    claims_created: int
    outlets_created: int
    outlets_rescored: int = Field(
        description="Outlets whose open claims are queued for re-scoring (one job each)."
    )
