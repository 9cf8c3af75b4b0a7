"""Object storage by sha256 on a real S3 server (moto or MinIO) and on local disk, with size and type checks."""

from __future__ import annotations

import hashlib

import pytest

from libs.common.errors import Invalid, NotFound, TooLarge, UnsupportedMediaType
from libs.common.storage import LocalObjectStore, check_content, make_store

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(params=["s3", "local"])
def store(request, stack, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "local":
        return LocalObjectStore(tmp_path)
    return make_store(
        stack.settings(
            "kyc", s3_bucket_prefix=f"test-{request.node.name[-6:].lower()}-".replace("[", "").replace("]", "")
        )
    )


async def test_objects_are_stored_by_content_hash_and_read_back(store):
    stored = await store.put(PDF, "application/pdf")
    again = await store.put(PDF, "application/pdf")

    assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.key.endswith(stored.sha256)
    assert again == stored
    assert await store.get(stored.key) == PDF
    assert await store.exists(stored.key)


async def test_a_missing_object_is_not_found(store):
    with pytest.raises(NotFound):
        await store.get("sha256/00/" + "0" * 64)


def test_content_is_checked_for_size_type_and_signature_before_it_is_stored():
    check_content(PDF, "application/pdf", max_bytes=1000)
    with pytest.raises(TooLarge):
        check_content(PDF, "application/pdf", max_bytes=10)
    with pytest.raises(UnsupportedMediaType) as mislabelled:
        check_content(b"MZ\x90\x00 an executable", "application/pdf", max_bytes=1000)
    with pytest.raises(UnsupportedMediaType) as unlisted:
        check_content(PDF, "application/x-msdownload", max_bytes=1000)
    with pytest.raises(Invalid):
        check_content(b"", "application/pdf", max_bytes=1000)
    assert mislabelled.value.code == "content_type_mismatch"
    assert unlisted.value.code == "unsupported_content_type"
