"""Documents: the kinds the register keeps and the file types it accepts."""
from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

DOC_TYPES = ("registration_certificate", "tax_certificate", "licence", "identity_document", "ownership_declaration",
             "inspection_report", "site_photo", "contract", "other")
ALLOWED_CONTENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff"})
_BY_EXTENSION = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".tif": "image/tiff", ".tiff": "image/tiff"}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def declared_type(content_type: str | None, filename: str) -> str:
    """The type the uploader declared; a generic one is read from the file name's extension."""
    base = (content_type or "").split(";")[0].strip().lower()
    if base in GENERIC:
        return _BY_EXTENSION.get(PurePosixPath(filename.lower()).suffix, base or "application/octet-stream")
    return _ALIASES.get(base, base)


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 255 characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    cleaned = re.sub(r"\s+", " ", cleaned).strip().lstrip(".")
    return cleaned[:255] or "document"
