"""Documents: the kinds the register keeps, the file types it accepts, and what a document is filed under."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from libs.common.errors import Conflict, Invalid
from libs.common.events.kyc import DocumentUploaded
from services.kyc import lengths
from services.kyc.domain.versioned import UNNUMBERED

if TYPE_CHECKING:
    from services.kyc.domain.licences import Licence

DOC_TYPES = (
    "registration_certificate",
    "tax_certificate",
    "licence",
    "identity_document",
    "ownership_declaration",
    "inspection_report",
    "site_photo",
    "contract",
    "other",
)
ALLOWED_CONTENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff"})
_BY_EXTENSION = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def declared_type(content_type: str | None, filename: str) -> str:
    """The type the uploader declared; a generic one is read from the file name's extension."""
    base = (content_type or "").split(";")[0].strip().lower()
    if base in GENERIC:
        return _BY_EXTENSION.get(PurePosixPath(filename.lower()).suffix, base or "application/octet-stream")
    return _ALIASES.get(base, base)


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters, at most lengths.FILENAME characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    cleaned = re.sub(r"\s+", " ", cleaned).strip().lstrip(".")
    return cleaned[: lengths.FILENAME] or "document"


@dataclass(frozen=True)
class Links:
    """What a document is filed under; each link points into the uploader's organisation."""

    actor_id: UUID | None = None
    person_id: UUID | None = None
    licence_id: UUID | None = None
    site_id: UUID | None = None
    inspection_id: UUID | None = None


@dataclass(frozen=True)
class Upload:
    """The file as it came in: nothing of it is trusted until checked."""

    data: bytes
    filename: str
    content_type: str
    doc_type: str

    def checked_type(self) -> str:
        """The declared content type (read from the extension when generic), once the document type is known."""
        if self.doc_type not in DOC_TYPES:
            raise Invalid(f"unknown document type {self.doc_type!r}", code="unknown_doc_type")
        return declared_type(self.content_type, self.filename)


@dataclass
class Document:
    """Metadata of a stored file; the bytes live in object storage under their sha256."""

    id: UUID
    org_id: str
    doc_type: str
    filename: str
    content_type: str
    size: int
    sha256: str
    object_key: str
    uploaded_by: str
    uploaded_at: datetime
    actor_id: UUID | None = None
    person_id: UUID | None = None
    licence_id: UUID | None = None
    site_id: UUID | None = None
    inspection_id: UUID | None = None

    @classmethod
    def upload(
        cls,
        upload: Upload,
        *,
        content_type: str,
        org_id: str,
        size: int,
        sha256: str,
        object_key: str,
        links: Links,
        by: str,
        now: datetime,
    ) -> tuple[Document, DocumentUploaded]:
        """A stored file described and filed under its (checked) links."""
        document = cls(
            id=uuid4(),
            org_id=org_id,
            doc_type=upload.doc_type,
            filename=safe_filename(upload.filename),
            content_type=content_type,
            size=size,
            sha256=sha256,
            object_key=object_key,
            uploaded_by=by,
            uploaded_at=now,
            **asdict(links),
        )
        return document, DocumentUploaded(
            org_id=org_id,
            aggregate_version=UNNUMBERED,
            document_id=document.id,
            doc_type=document.doc_type,
            sha256=sha256,
            size=size,
            content_type=content_type,
            uploaded_by=by,
            **asdict(links),
        )

    @property
    def links(self) -> Links:
        return Links(
            actor_id=self.actor_id,
            person_id=self.person_id,
            licence_id=self.licence_id,
            site_id=self.site_id,
            inspection_id=self.inspection_id,
        )

    def file_under_licence(self, licence: Licence) -> None:
        """A document uploaded on its own (or for the licence's actor) attached to a new licence."""
        if self.actor_id not in (None, licence.actor_id) or self.licence_id is not None:
            raise Conflict(
                f"document {self.id} already belongs to another actor or licence", code="document_already_linked"
            )
        self.actor_id, self.licence_id = licence.actor_id, licence.id
