from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from service.schemas import PageMeta, Schema, StrictInput


class Scope(StrEnum):
    READ = "read"
    SUBMIT = "submit"
    ADMIN = "admin"


KeyName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9 ._@-]+$")]


class ApiKeyCreate(StrictInput):
    name: KeyName
    scopes: list[Scope] = Field(min_length=1, description="Any of read, submit, admin.")


class ApiKeyRead(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's public prefix, shown in logs and listings.")
    scopes: list[Scope]
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown once; only its hash is stored.")


class ApiKeyPage(PageMeta):
    items: list[ApiKeyRead]
