"""What the documents API accepts (a multipart form) and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import UploadFile
from pydantic import BaseModel, Field

from libs.common.schemas import Page, RequestBody
from services.kyc.domain.documents import Document

DocType = Literal[
    "registration_certificate",
    "tax_certificate",
    "licence",
    "identity_document",
    "ownership_declaration",
    "inspection_report",
    "site_photo",
    "contract",
    "other",
]


class UploadDocument(RequestBody):
    """The form of an upload: the file, what it is, and what it is filed under (each link optional)."""

    file: UploadFile = Field(description="pdf, png, jpeg or tiff")
    doc_type: DocType
    actor_id: UUID | None = None
    person_id: UUID | None = None
    licence_id: UUID | None = None
    site_id: UUID | None = None
    inspection_id: UUID | None = None


class DocumentRead(BaseModel):
    id: UUID
    doc_type: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    actor_id: UUID | None
    person_id: UUID | None
    licence_id: UUID | None
    site_id: UUID | None
    inspection_id: UUID | None

    @classmethod
    def from_domain(cls, document: Document) -> DocumentRead:
        return cls.model_validate(document, from_attributes=True)


DocumentPage = Page[DocumentRead]
