"""The bodies the files endpoints answer with, in the real keys and order (reference §10)."""

from __future__ import annotations

__all__ = ["file_deleted", "file_list", "file_object"]


def file_object(file_id: str, size: int, created_at: int, filename: str, purpose: str,
                file_type: str) -> dict:
    """A FileObject as the 2026 service writes it (the Files log's upload reply):
    `status` "ready", `status_details` "", and the sniffed `file_type` last."""
    return {"id": file_id, "object": "file", "bytes": size, "created_at": created_at,
            "filename": filename, "purpose": purpose, "status": "ready", "status_details": "",
            "file_type": file_type}


def file_list(files: list[dict], has_more: bool = False) -> dict:
    """`GET /v1/files`: the page, its first and last ids ("" when empty), and has_more."""
    first, last = (files[0]["id"], files[-1]["id"]) if files else ("", "")
    return {"object": "list", "data": files, "first_id": first, "last_id": last,
            "has_more": has_more}


def file_deleted(file_id: str) -> dict:
    """`DELETE /v1/files/{id}`, keys as captured: deleted, id, object."""
    return {"deleted": True, "id": file_id, "object": "file"}
