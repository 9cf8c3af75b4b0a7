"""Object storage addressed by sha256: MinIO/S3 through the minio client, or a local folder for embedded mode."""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.error import S3Error

from libs.common.errors import Invalid, NotFound, TooLarge, UnsupportedMediaType
from libs.common.settings import ServiceSettings

# Declared type -> magic bytes the content must start with (None: any text without NUL bytes).
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/zip": (b"PK\x03\x04",),
    "text/csv": None,
    "text/plain": None,
    "application/json": None,
    "application/xml": None,
}


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    content_type: str


def check_content(data: bytes, content_type: str, *, max_bytes: int, allowed: set[str] | None = None) -> None:
    """Refuse empty, oversized, unlisted or mislabelled content before anything is written."""
    base_type = content_type.split(";")[0].strip().lower()
    permitted = allowed if allowed is not None else set(SIGNATURES)
    if base_type not in permitted or base_type not in SIGNATURES:
        raise UnsupportedMediaType(
            f"content type {base_type!r} is not accepted; use one of {sorted(permitted)}",
            code="unsupported_content_type",
        )
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    if len(data) > max_bytes:
        raise TooLarge(f"the file has {len(data)} bytes; the limit is {max_bytes}", code="file_too_large")
    signatures = SIGNATURES[base_type]
    if signatures is None:
        if b"\x00" in data[:8192]:
            raise UnsupportedMediaType(f"content is binary, not {base_type}", code="content_type_mismatch")
    elif not data.startswith(signatures):
        raise UnsupportedMediaType(f"content does not look like {base_type}", code="content_type_mismatch")


class ObjectStore(Protocol):
    async def put(self, data: bytes, content_type: str) -> StoredObject: ...
    async def get(self, key: str) -> bytes: ...
    async def exists(self, key: str) -> bool: ...


def object_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


class LocalObjectStore:
    """Embedded default: files under a folder, written atomically, named by content hash."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, data: bytes, content_type: str) -> StoredObject:
        digest = hashlib.sha256(data).hexdigest()
        key = object_key(digest)
        path = self.root / key
        if not path.exists():
            await asyncio.to_thread(_write_atomic, path, data)
        return StoredObject(key=key, sha256=digest, size=len(data), content_type=content_type)

    async def get(self, key: str) -> bytes:
        path = self.root / key
        if ".." in Path(key).parts or not path.is_file():
            raise NotFound(f"object {key} not found")
        return await asyncio.to_thread(path.read_bytes)

    async def exists(self, key: str) -> bool:
        return (self.root / key).is_file()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class S3ObjectStore:
    """MinIO or any S3 server; one bucket per service. The minio client is blocking, so calls run in threads."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self.client, self.bucket = client, bucket
        self._bucket_ready = False

    async def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            if not await asyncio.to_thread(self.client.bucket_exists, self.bucket):
                try:
                    await asyncio.to_thread(self.client.make_bucket, self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._bucket_ready = True

    async def put(self, data: bytes, content_type: str) -> StoredObject:
        await self._ensure_bucket()
        digest = hashlib.sha256(data).hexdigest()
        key = object_key(digest)
        await asyncio.to_thread(
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"sha256": digest},
        )
        return StoredObject(key=key, sha256=digest, size=len(data), content_type=content_type)

    async def get(self, key: str) -> bytes:
        def _read() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return await asyncio.to_thread(_read)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket"):
                raise NotFound(f"object {key} not found") from exc
            raise

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.stat_object, self.bucket, key)
            return True
        except S3Error:
            return False


def make_store(settings: ServiceSettings) -> ObjectStore:
    if not settings.s3_endpoint:
        return LocalObjectStore(settings.storage_dir / settings.service_name)
    endpoint = settings.s3_endpoint.removeprefix("http://").removeprefix("https://")
    secure = settings.s3_secure or settings.s3_endpoint.startswith("https://")
    client = Minio(
        endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=secure,
        region=settings.s3_region,
    )
    return S3ObjectStore(client, settings.s3_bucket_prefix + settings.service_name)
