"""The files endpoints' bodies: the real keys in the real order, valid against the spec."""

from __future__ import annotations

import pytest

from mockshot.resources.files.objects import file_deleted, file_list, file_object

from . import spec_check

REAL = {"id": "fac83g4rduhi11c1ey11", "object": "file", "bytes": 13093, "created_at": 1779720376,
        "filename": "real.png", "purpose": "image", "status": "ready", "status_details": "",
        "file_type": "image/png"}


def made() -> dict:
    return file_object("fac83g4rduhi11c1ey11", 13093, 1779720376, "real.png", "image",
                       "image/png")


def test_a_file_object_is_the_captured_one_key_for_key():
    assert list(made().items()) == list(REAL.items())


def test_an_empty_list_is_the_captured_one():
    assert file_list([]) == {"object": "list", "data": [], "first_id": "", "last_id": "",
                             "has_more": False}


def test_a_list_names_its_first_and_last_ids():
    second = {**made(), "id": "fac83ykrduhi11c1fy61"}
    listing = file_list([made(), second], has_more=True)
    assert (listing["first_id"], listing["last_id"], listing["has_more"]) == (
        "fac83g4rduhi11c1ey11", "fac83ykrduhi11c1fy61", True)


def test_a_deletion_is_the_captured_one_key_for_key():
    assert list(file_deleted("fac83g4rduhi11c1ey11").items()) == [
        ("deleted", True), ("id", "fac83g4rduhi11c1ey11"), ("object", "file")]


@pytest.mark.parametrize(("schema", "body"), [
    ("FileObject", made()),
    ("FileObject", {**made(), "purpose": "batch_output"}),
    ("FileListResponse", file_list([made()])),
    ("FileDeleteResponse", file_deleted("fac83g4rduhi11c1ey11")),
])
def test_each_body_is_valid_against_the_spec(schema, body):
    spec_check._validate({"$ref": f"#/components/schemas/{schema}"}, body, schema)
