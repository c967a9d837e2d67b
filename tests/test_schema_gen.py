"""schema_gen: values that validate, reproducibly, and the MFJS check in the service's words."""

from __future__ import annotations

import random
from functools import cache

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockshot.errors import invalid_request
from mockshot.schemagen import (
    MFJSError,
    SchemaGenerationError,
    check_mfjs,
    generate,
    mfjs_message,
)

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["c", "f"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city"],
}
LINKED_LIST = {
    "type": "object",
    "properties": {"head": {"$ref": "#/$defs/node"}},
    "required": ["head"],
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
            },
            "required": ["value", "next"],
        }
    },
}


def validate(schema: dict, value: object) -> None:
    cls = jsonschema.Draft202012Validator
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(value)


def draws(schema: dict, seeds: int = 30) -> list:
    values = [generate(schema, random.Random(seed)) for seed in range(seeds)]
    for value in values:
        validate(schema, value)
    return values


# --------------------------------------------------------------------------- generate


def test_a_tool_call_has_its_required_arguments_and_bounds():
    for args in draws(WEATHER):
        assert "city" in args
        assert 1 <= args.get("days", 1) <= 7


def test_same_seed_same_value_and_different_seeds_usually_differ():
    assert generate(WEATHER, random.Random(7)) == generate(WEATHER, random.Random(7))
    assert len({repr(v) for v in draws(WEATHER, 20)}) >= 10


def test_the_global_random_state_is_left_alone():
    random.seed(3)
    state = random.getstate()
    generate(LINKED_LIST, random.Random(1))
    assert random.getstate() == state


def test_strings_read_like_their_property_names():
    schema = {
        "type": "object",
        "properties": {n: {"type": "string"} for n in ("email", "website", "birthday")},
        "required": ["email", "website", "birthday"],
    }
    value = generate(schema, random.Random(0))
    assert "@" in value["email"]
    assert value["website"].startswith("https://")
    assert value["birthday"][:2] == "20"


@pytest.mark.parametrize(
    "fmt", ["date", "date-time", "time", "email", "uri", "url", "uuid", "ipv4", "hostname"]
)
def test_formats_are_honoured(fmt):
    draws({"type": "string", "format": fmt})


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[A-Z]{2}-\d{3}$",
        r"^(foo|bar)+$",
        r"^\w+@\w+\.com$",
        r"^[^aeiou\s]{3,5}$",
        r"^(ab)\1$",
        r"^[a-z0-9_-]{3,16}$",
        r"colou?r",
        r"^\+?[0-9 ]{6,12}$",
    ],
)
def test_simple_patterns_are_generated(pattern):
    draws({"type": "string", "pattern": pattern})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 12, "maxLength": 14},
        {"type": "string", "maxLength": 2},
        {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 5},
        {"type": "integer", "minimum": 10, "multipleOf": 7},
        {"type": "integer", "multipleOf": 0.5, "maximum": -3},
        {"type": "number", "minimum": 0.1, "maximum": 0.2},
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "multipleOf": 0.1},
        {"type": ["string", "null"]},
        {"enum": [1, "two", None]},
        {"const": {"a": [1]}},
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
        {"type": "array", "items": {"enum": [1, 2, 3]}, "uniqueItems": True, "minItems": 3},
        {"type": "array", "items": {"type": "integer"}, "contains": {"const": 42}},
        {"type": "object", "minProperties": 3, "additionalProperties": {"type": "integer"}},
        {"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "minProperties": 1,
         "additionalProperties": False},
        {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
         "anyOf": [{"required": ["a"]}, {"required": ["b"]}]},
        {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
        {"allOf": [{"type": "object", "properties": {"a": {"type": "integer", "minimum": 2}},
                    "required": ["a"]},
                   {"properties": {"a": {"maximum": 3}, "b": {"type": "boolean"}},
                    "required": ["b"]}]},
        {"type": "integer", "minimum": 1, "maximum": 4, "not": {"enum": [1, 2, 3]}},
        {"default": "x", "type": "string", "examples": ["y"]},
    ],
)
def test_keywords_are_satisfied(schema):
    draws(schema)


def test_recursive_refs_terminate():
    lengths = set()
    for value in draws(LINKED_LIST):
        node, length = value["head"], 0
        while node is not None:
            node, length = node["next"], length + 1
        lengths.add(length)
    assert max(lengths) <= 6 and len(lengths) > 1


def test_definitions_and_root_self_references_resolve():
    tree = {
        "type": "object",
        "properties": {"label": {"$ref": "#/definitions/label"},
                       "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["label", "children"],
        "definitions": {"label": {"type": "string", "maxLength": 8}},
    }
    draws(tree, 10)


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": "object", "properties": {"x": {"type": "integer", "minimum": 5, "maximum": 1}},
          "required": ["x"]}, "properties.x"),
        ({"type": "object", "properties": {"code": {"type": "string", "pattern": "^(?=a)b$"}},
          "required": ["code"]}, "properties.code.pattern"),
        ({"type": "object", "properties": {"n": {"$ref": "#/$defs/missing"}}, "required": ["n"]},
         "properties.n.$ref"),
    ],
)
def test_unsatisfiable_schemas_name_the_failing_path(schema, path):
    with pytest.raises(SchemaGenerationError) as info:
        generate(schema, random.Random(0))
    assert info.value.path == path
    assert f"at '{path}'" in str(info.value)


# --------------------------------------------------------------------------- check_mfjs

BAD = [
    ({"type": "object", "properties": {"pair": {"type": "array", "items": [{"type": "string"}]}}},
     "At path 'properties.pair.items': items must be an object"),
    ({"type": "object", "properties": {"pair": {"type": "array", "items": True}}},
     "At path 'properties.pair.items': items must be an object"),
    ({"type": "array", "items": {"type": "string"}},
     "At path 'root': the root schema must be of type object"),
    ({"type": "object", "properties": {"a": {"type": "text"}}},
     "At path 'properties.a': invalid type"),
    ({"type": "object", "properties": {"a": {"type": ["string", "str"]}}},
     "At path 'properties.a': invalid type in type array"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]},
     "At path 'required': required property 'b' is not defined in properties"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": "a"},
     "At path 'required': required must be an array"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", 1]},
     "At path 'required': items in required array must be strings"),
    ({"type": "object", "properties": [{"type": "string"}]},
     "At path 'properties': properties must be an object"),
    ({"type": "object", "properties": {"a": {"type": "string", "enum": []}}},
     "At path 'properties.a.enum': enum array cannot be empty"),
    ({"type": "object", "properties": {"a": {"type": "string", "enum": "ab"}}},
     "At path 'properties.a.enum': enum must be an array"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/b"}}, "$defs": {}},
     "At path 'root': invalid $ref path: #/$defs/b"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/b"}}},
     "At path 'properties.a.$ref': $defs not found for reference: #/$defs/b"),
    ({"type": "object", "properties": {"a": {"$ref": "#/definitions/b"}}},
     "At path 'properties.a.$ref': references must start with #/$defs/"),
    ({"type": "object", "properties": {"loc": {"description": "where"}}},
     "At path 'properties.loc': type need to be defined explicitly"),
    ({"type": "object", "properties": {"o": {"type": "object", "properties": {"x": {}}}}},
     "At path 'properties.o.properties.x': type need to be defined explicitly"),
    ({"type": "object", "properties": {"a": {"type": "string", "anyOf": [{"minLength": 1}]}}},
     "At path 'properties.a': when using anyOf, type should be defined in anyOf items instead "
     "of the parent schema"),
    ({"type": "object", "properties": {"a": {"type": "integer", "enum": [1, "x"]}}},
     "At path 'properties.a.enum': not a valid integer"),
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": 5, "maxLength": 2}}},
     "At path 'properties.a.minLength': minLength (5) cannot be greater than maxLength (2)"),
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": -1}}},
     "At path 'properties.a.minLength': -1 is less than the minimum of 0"),
    ({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "bogus"}]}}},
     "At path 'properties.a.anyOf': invalid type"),
    ([{"type": "object"}], "At path 'root': schema must be a dict"),
]


@pytest.mark.parametrize(("schema", "details"), BAD)
def test_check_mfjs_rejects_with_the_services_words(schema, details):
    with pytest.raises(MFJSError) as info:
        check_mfjs(schema, "response_format.json_schema")
    assert str(info.value) == details


def test_the_real_400_message_is_reproduced():
    with pytest.raises(MFJSError) as info:
        check_mfjs(BAD[0][0], "response_format.json_schema")
    assert invalid_request(mfjs_message(info.value)).message == (
        "Invalid request: response_format.json_schema is not a valid moonshot flavored json "
        "schema, details: <At path 'properties.pair.items': items must be an object>"
    )


@pytest.mark.parametrize(
    "schema",
    [
        {},
        WEATHER,
        LINKED_LIST,
        {"type": "object", "properties": {"lang": {"type": "string", "enum": ["zh", "en"]},
                                          "q": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                          "k": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
                                          "c": {"const": 1}}},
    ],
)
def test_check_mfjs_accepts_good_schemas(schema):
    check_mfjs(schema, "tools[0].function.parameters")


# --------------------------------------------------------------------------- properties

FORMATS = ["date", "date-time", "time", "email", "uri", "uuid", "ipv4", "hostname"]
NAMES = ["city", "name", "email", "days", "count", "price", "tags", "query", "id", "note", "x"]
WORDS = ["red", "green", "blue", "small", "large", "north"]


def _integer(low: int, width: int, step: int | None, exclusive: bool) -> dict:
    bounds = ("exclusiveMinimum", "exclusiveMaximum") if exclusive else ("minimum", "maximum")
    schema = {"type": "integer", bounds[0]: low, bounds[1]: low + width + 2 * (step or 1)}
    return schema | ({"multipleOf": step} if step else {})


def _number(low: int, width: int, step: float | None) -> dict:
    top = low / 2 + width + 2 * (step or 1)  # wide enough to hold a multiple
    schema = {"type": "number", "minimum": low / 2, "maximum": top}
    return schema | ({"multipleOf": step} if step else {})


LEAVES = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={"minLength": st.integers(0, 4), "maxLength": st.integers(6, 20)},
    ),
    st.builds(lambda f: {"type": "string", "format": f}, st.sampled_from(FORMATS)),
    st.builds(_integer, st.integers(-50, 50), st.integers(0, 40),
              st.sampled_from([None, 1, 2, 5]), st.booleans()),
    st.builds(_number, st.integers(-50, 50), st.integers(0, 40),
              st.sampled_from([None, 0.5, 0.25, 0.1, 2])),
    st.builds(lambda t: {"type": t}, st.sampled_from(["boolean", "null"])),
    st.builds(lambda w: {"type": "string", "enum": w},
              st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True)),
    st.builds(lambda n: {"type": "integer", "enum": n},
              st.lists(st.integers(-9, 9), min_size=1, max_size=4, unique=True)),
)
DISTINCT = st.lists(
    st.sampled_from([{"type": "string"}, {"type": "integer"}, {"type": "boolean"},
                     {"type": "null"}, {"type": "array", "items": {"type": "string"}}]),
    min_size=2, max_size=3, unique_by=lambda s: s["type"],
)


def _object(props: dict, required_flags: list[bool], closed: bool) -> dict:
    required = [n for n, flag in zip(props, required_flags, strict=False) if flag]
    schema = {"type": "object", "properties": props, "required": required}
    return schema | ({"additionalProperties": False} if closed else {})


def _objects(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(
        _object,
        st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=4),
        st.lists(st.booleans(), min_size=4, max_size=4),
        st.booleans(),
    )


def _array(items: dict, least: int, extra: int) -> dict:
    return {"type": "array", "items": items, "minItems": least, "maxItems": least + extra}


@cache
def schemas(depth: int) -> st.SearchStrategy:
    """Schemas in the supported subset, nested at most `depth` levels."""
    if depth == 0:
        return LEAVES
    inner = schemas(depth - 1)
    return st.one_of(
        LEAVES,
        _objects(inner),
        st.builds(_array, inner, st.integers(0, 2), st.integers(0, 3)),
        st.builds(lambda b: {"anyOf": b}, DISTINCT),
        st.builds(lambda b: {"oneOf": b}, DISTINCT),
    )


def _with_defs(root: dict, defs: dict) -> dict:
    """Put `defs` under `$defs` and point one extra property at each of them."""
    if not defs:
        return root
    refs = {f"ref_{name}": {"$ref": f"#/$defs/{name}"} for name in defs}
    return root | {"properties": root["properties"] | refs, "$defs": defs}


ROOTS = st.builds(
    _with_defs,
    _objects(schemas(2)),
    st.dictionaries(st.sampled_from(["Item", "Place"]), schemas(1), max_size=2),
)


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(ROOTS, st.integers(0, 2**32))
def test_any_supported_schema_gets_a_valid_value(schema, seed):
    validate(schema, generate(schema, random.Random(seed)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROOTS, st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_value(schema, seed):
    assert generate(schema, random.Random(seed)) == generate(schema, random.Random(seed))


@PROPERTY
@given(ROOTS)
def test_check_mfjs_accepts_every_supported_schema(schema):
    check_mfjs(schema, "tools[0].function.parameters")
