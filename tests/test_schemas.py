"""The contract's schema files: well-formed, consistent with the data tables, and biting."""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from conformance import schemas
from conformance.errors import SchemaFilesError

# Contract section 1, copied: the ten scored operations, in contract order.
CONTRACT_OPERATIONS = [
    "listReturns",
    "listOrderReturns",
    "getReturn",
    "createReturn",
    "cancelReturn",
    "approveReturn",
    "rejectReturn",
    "listReturnFulfillments",
    "getReturnFulfillment",
    "createReturnFulfillment",
]
DISCOVERY_OPERATIONS = ["listOrders", "getOrder"]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

DATA_DIR = Path(schemas.__file__).parent / "data"
SCHEMA_DIR = schemas.schema_dir()
SCHEMA_FILES = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return data


def _openapi() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(schemas.openapi_path().read_text(encoding="utf-8"))
    return data


def _operations_toml() -> dict[str, Any]:
    with (DATA_DIR / "operations.toml").open("rb") as f:
        return tomllib.load(f)


def _walk(node: object, pointer: str = "") -> Iterator[tuple[str, object]]:
    """Every (JSON pointer, value) in a document, depth first."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            token = str(key).replace("~", "~0").replace("/", "~1")
            yield from _walk(value, f"{pointer}/{token}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def _schema_nodes(node: object, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema of a JSON Schema document, skipping data (examples, enum, const)."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key in {"examples", "enum", "const", "default"}:
                continue
            yield from _schema_nodes(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schema_nodes(value, f"{pointer}/{index}")


def _resolve_pointer(document: object, pointer: str) -> Any:
    node: Any = document
    for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        elif isinstance(node, dict):
            node = node[token]
        else:
            raise KeyError(pointer)
    return node


def _is_valid(name: str, instance: object) -> bool:
    return not schemas.violations(name, instance)


# --------------------------------------------------------------------------- files


def test_schema_dir_holds_the_files() -> None:
    assert SCHEMA_FILES, "no schema files found"
    assert schemas.openapi_path().name == "openapi.yaml"
    assert schemas.schema_names() == SCHEMA_FILES


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_against_its_metaschema(name: str) -> None:
    schema = _load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in schema, "a file's location is its identity (see conformance/schemas.py)"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_documented(name: str) -> None:
    schema = _load(name)
    assert schema.get("title") and schema.get("description")
    assert schema.get("examples"), f"{name} has no examples"
    undocumented = [
        f"{pointer}/properties/{prop}"
        for pointer, node in _schema_nodes(schema)
        if isinstance(node.get("properties"), dict)
        for prop, sub in node["properties"].items()
        if isinstance(sub, dict) and "description" not in sub
    ]
    assert not undocumented, f"{name}: properties without description: {undocumented}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_example_validates(name: str) -> None:
    """Examples anywhere in the file validate against the subschema that carries them."""
    schema = _load(name)
    checked = 0
    for pointer, node in _schema_nodes(schema):
        for index, example in enumerate(node.get("examples", [])):
            target = {"$ref": f"{schemas.BASE_URI}{name}#{pointer}"}
            validator = jsonschema.Draft202012Validator(
                target, registry=schemas.registry(), format_checker=schemas.FORMAT_CHECKER
            )
            errors = schemas.format_errors(validator.iter_errors(example))
            assert not errors, f"{name}#{pointer}/examples/{index}: {errors}"
            checked += 1
    assert checked >= 1


def test_response_and_request_schemas_stay_open() -> None:
    """Connectors may add platform fields and clients may send unknown fields (contract §2)."""
    for name in SCHEMA_FILES:
        if name == "capability-matrix.schema.json":
            continue
        for pointer, node in _schema_nodes(_load(name)):
            assert node.get("additionalProperties") is not False, f"{name}#{pointer}"
            assert node.get("unevaluatedProperties") is not False, f"{name}#{pointer}"


# --------------------------------------------------------------------------- references


def test_every_schema_ref_resolves_offline() -> None:
    registry = schemas.registry()
    count = 0
    for name in SCHEMA_FILES:
        schema = _load(name)
        resolver = registry.resolver(base_uri=schemas.BASE_URI + name)
        for pointer, node in _walk(schema):
            if pointer.endswith("/$ref") and isinstance(node, str):
                assert not node.startswith(("http:", "https:")), f"{name}{pointer}: absolute {node}"
                resolved = resolver.lookup(node).contents
                assert isinstance(resolved, dict), f"{name}{pointer}: {node}"
                count += 1
    assert count > 20


def test_every_openapi_ref_resolves_offline() -> None:
    spec = _openapi()
    count = 0
    for pointer, node in _walk(spec):
        if not (pointer.endswith("/$ref") and isinstance(node, str)):
            continue
        file_part, _, fragment = node.partition("#")
        assert not file_part.startswith(("http:", "https:")), f"{pointer}: absolute {node}"
        document: object = spec
        if file_part:
            path = SCHEMA_DIR / file_part
            assert path.is_file(), f"{pointer}: {file_part} does not exist"
            document = json.loads(path.read_text(encoding="utf-8"))
        try:
            target = _resolve_pointer(document, fragment)
        except (KeyError, IndexError, ValueError):
            pytest.fail(f"{pointer}: {node} does not resolve")
        assert isinstance(target, dict), f"{pointer}: {node}"
        count += 1
    assert count > 50


def test_openapi_is_a_valid_openapi_31_document() -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    spec, base_uri = read_from_filename(str(schemas.openapi_path()))
    assert spec["openapi"] == "3.1.0"
    assert spec["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    validate(spec, base_uri=base_uri)


# --------------------------------------------------------------------------- the contract


def _openapi_operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in _openapi()["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                assert operation["operationId"] not in found
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def test_openapi_operations_match_the_contract_and_operations_toml() -> None:
    table = _operations_toml()
    rows = table["operation"] + table["discovery"]
    assert [row["id"] for row in table["operation"]] == CONTRACT_OPERATIONS
    assert [row["id"] for row in table["discovery"]] == DISCOVERY_OPERATIONS
    expected = {row["id"]: (row["method"], row["path"]) for row in rows}
    actual = {op_id: (method, path) for op_id, (method, path, _) in _openapi_operations().items()}
    assert actual == expected


def test_operation_schemas_exist_and_are_used_by_openapi() -> None:
    table = _operations_toml()
    operations = _openapi_operations()
    for row in table["operation"] + table["discovery"]:
        _, _, operation = operations[row["id"]]
        for key in ("request", "response"):
            if key in row:
                assert (SCHEMA_DIR / row[key]).is_file(), f"{row['id']}: {row[key]} is missing"
        refs = {node for pointer, node in _walk(operation) if pointer.endswith("/$ref")}
        spec = _openapi()
        for ref in list(refs):  # one level of components indirection
            if isinstance(ref, str) and ref.startswith("#/components/"):
                refs |= {
                    n for p, n in _walk(_resolve_pointer(spec, ref[1:])) if p.endswith("/$ref")
                }
        if "request" in row:
            assert row["request"] in refs, f"{row['id']} does not use {row['request']}"
        assert row["response"] in refs, f"{row['id']} does not use {row['response']}"


def _status_codes(kind: str, op_id: str, is_list: bool) -> set[str]:
    errors = {"401", "403", "404", "429", "501", "502", "503"}
    if kind == "read":
        codes = {"200"} | errors | ({"400"} if is_list else set())
        if op_id in {"listReturns", "listOrders"}:  # no path resource to be missing
            codes.discard("404")
        return codes
    if kind == "create":
        codes = {"201", "200", "400", "422"} | errors
        return codes | ({"409"} if op_id == "createReturnFulfillment" else set())
    return {"200", "400", "409"} | errors


def test_openapi_documents_the_contract_status_codes() -> None:
    spec = _openapi()
    table = _operations_toml()
    operations = _openapi_operations()
    rows = table["operation"] + [{**row, "kind": "read"} for row in table["discovery"]]
    for row in rows:
        _, _, operation = operations[row["id"]]
        is_list = bool(row.get("list")) or row["id"] == "listOrders"
        responses = operation["responses"]
        assert set(responses) == _status_codes(row["kind"], row["id"], is_list), row["id"]
        assert operation.get("description"), row["id"]
        assert operation.get("tags"), row["id"]
        for code, response in responses.items():
            if "$ref" in response:
                response = _resolve_pointer(spec, response["$ref"][1:])
            schema_ref = response["content"]["application/json"]["schema"]["$ref"]
            if code.startswith("2"):
                assert schema_ref == row["response"]
                assert response["content"]["application/json"].get("examples"), row["id"]
            else:
                assert schema_ref == "error.schema.json", f"{row['id']} {code}"
            if code == "429":
                assert "Retry-After" in response["headers"]


def test_openapi_request_bodies() -> None:
    spec = _openapi()
    for op_id, (_, _, operation) in _openapi_operations().items():
        body = operation.get("requestBody")
        if body is None:
            continue
        if "$ref" in body:
            body = _resolve_pointer(spec, body["$ref"][1:])
        assert body["content"]["application/json"].get("examples"), op_id
        create = op_id in {"createReturn", "createReturnFulfillment"}
        assert body["required"] is create, op_id


def test_openapi_links_chain_the_lifecycle_without_bodies() -> None:
    spec = _openapi()
    operations = _openapi_operations()

    def targets(op_id: str, code: str) -> set[str]:
        response = operations[op_id][2]["responses"][code]
        if "$ref" in response:
            response = _resolve_pointer(spec, response["$ref"][1:])
        found = set()
        for link in response.get("links", {}).values():
            if "$ref" in link:
                link = _resolve_pointer(spec, link["$ref"][1:])
            assert "requestBody" not in link
            assert link["operationId"] in operations
            found.add(link["operationId"])
        return found

    lifecycle = {
        "getReturn",
        "approveReturn",
        "rejectReturn",
        "cancelReturn",
        "listReturnFulfillments",
        "listOrderReturns",
    }
    assert targets("createReturn", "201") == lifecycle
    assert targets("createReturn", "200") == lifecycle
    assert targets("approveReturn", "200") == {"createReturnFulfillment", "getReturn"}
    assert targets("createReturnFulfillment", "201") == {
        "getReturnFulfillment",
        "listReturnFulfillments",
    }
    assert targets("getOrder", "200") == {"createReturn", "listOrderReturns"}
    link = spec["components"]["links"]["GetReturnFulfillmentFromCreated"]
    assert link["parameters"] == {
        "orderId": "$request.path.orderId",
        "returnId": "$request.path.returnId",
        "id": "$response.body#/returnFulfillment/id",
    }


def test_vocabularies_are_read_from_the_schema() -> None:
    """The schema is the vocabularies' one source: contract.vocabularies() reads it, and no
    second list of them is shipped in conformance/data."""
    from conformance.contract import VOCABULARY_DEFS, vocabularies

    defs = _load("vocabularies.schema.json")["$defs"]
    vocab = vocabularies()
    for key, def_name in VOCABULARY_DEFS.items():
        enums = [branch["enum"] for branch in defs[def_name]["anyOf"] if "enum" in branch]
        assert len(enums) == 1 and frozenset(enums[0]) == getattr(vocab, key), def_name
        # any non-empty platform-specific string is allowed
        assert {"type": "string", "minLength": 1}.items() <= defs[def_name]["anyOf"][1].items()
    # A request reason: the normalized values, or any non-empty string (refused or noted)
    request = defs["returnReasonRequest"]["anyOf"]
    assert frozenset(request[0]["enum"]) == vocab.return_reason
    assert {"type": "string", "minLength": 1}.items() <= request[1].items()
    assert not (DATA_DIR / "vocabularies.toml").exists(), "a second copy of the vocabularies"
    assert {"type": "null"}.items() <= defs["fulfillmentStatus"]["anyOf"][2].items()


def test_capability_matrix_operations_are_the_contract_operations() -> None:
    matrix = _load("capability-matrix.schema.json")
    operations = matrix["properties"]["operations"]
    assert list(operations["properties"]) == CONTRACT_OPERATIONS
    assert operations["required"] == CONTRACT_OPERATIONS
    assert operations["additionalProperties"] is False


# --------------------------------------------------------------------------- the schemas bite


def _example(name: str, index: int = 0) -> Any:
    return copy.deepcopy(_load(name)["examples"][index])


def test_return_requires_return_items() -> None:
    ret = _example("return.schema.json")
    assert _is_valid("return.schema.json", ret)
    del ret["returnItems"]
    assert schemas.violations("return.schema.json", ret) == [
        "(root): 'returnItems' is a required property"
    ]
    ret = _example("return.schema.json")
    ret["returnItems"] = []
    assert not _is_valid("return.schema.json", ret)
    ret = _example("return.schema.json")
    ret["returnOrderId"] = ""
    assert not _is_valid("return.schema.json", ret)


@pytest.mark.parametrize("quantity", [0, 3, "0", "12"])
def test_response_quantity_accepts_integers_and_digit_strings(quantity: object) -> None:
    item = _example("return-item.schema.json")
    item["quantity"] = quantity
    assert _is_valid("return-item.schema.json", item)


@pytest.mark.parametrize("quantity", ["-1", -1, "1.5", 1.5, "", " 2", "two", None, True])
def test_response_quantity_rejects_the_rest(quantity: object) -> None:
    item = _example("return-item.schema.json")
    item["quantity"] = quantity
    assert not _is_valid("return-item.schema.json", item)


def test_platform_specific_values_are_allowed_but_must_be_strings() -> None:
    ret = _example("return.schema.json")
    ret["status"] = "PENDING_REVIEW"
    ret["returnItems"][0]["returnReason"] = "CHANGED_MIND"
    assert _is_valid("return.schema.json", ret)
    ret["status"] = 5
    assert schemas.violations("return.schema.json", ret) == ["/status: 5 is not of type 'string'"]
    ret["status"] = ""
    assert not _is_valid("return.schema.json", ret)


def test_create_return_request_bites() -> None:
    name = "create-return.request.schema.json"
    body = _example(name)
    assert _is_valid(name, body)
    for quantity in (0, -1, "1", 1.5):
        bad = copy.deepcopy(body)
        bad["return"]["items"][0]["quantity"] = quantity
        assert not _is_valid(name, bad), quantity
    big = copy.deepcopy(body)
    big["return"]["items"][0]["quantity"] = 1_000_001  # the contract sets no upper bound
    assert _is_valid(name, big)
    bad = copy.deepcopy(body)
    bad["return"]["items"][0]["quantity"] = 0
    assert schemas.violations(name, bad) == [
        "/return/items/0/quantity: 0 is less than the minimum of 1"
    ]
    platform = copy.deepcopy(body)
    platform["return"]["items"][0]["reason"] = "CHANGED_MIND"  # platform values are allowed
    assert _is_valid(name, platform)
    bad = copy.deepcopy(body)
    bad["return"]["items"][0]["reason"] = ""
    assert not _is_valid(name, bad)
    bad = copy.deepcopy(body)
    bad["return"]["items"] = []
    assert not _is_valid(name, bad)
    assert not _is_valid(name, {"items": body["return"]["items"]})  # not wrapped
    unknown = copy.deepcopy(body)
    unknown["return"]["giftWrap"] = True  # unknown fields are ignored
    unknown["extra"] = 1
    assert _is_valid(name, unknown)


def test_action_request_bodies() -> None:
    for name in ("approve-return.request.schema.json", "cancel-return.request.schema.json"):
        assert _is_valid(name, {})
        assert _is_valid(name, {"note": "ok", "unknown": 1})
        assert not _is_valid(name, {"note": 5})
        assert _is_valid(name, {"note": "x" * 5000})  # the contract sets no length limit
    name = "reject-return.request.schema.json"
    assert _is_valid(name, {"reason": "late", "note": "n"})
    assert not _is_valid(name, {"reason": ["late"]})


def test_create_return_fulfillment_request_bites() -> None:
    name = "create-return-fulfillment.request.schema.json"
    assert _is_valid(name, _example(name))
    assert not _is_valid(name, {"returnFulfillment": {}})
    assert not _is_valid(name, {"returnFulfillment": {"tracking": {"number": ""}}})
    bad = _example(name)
    bad["returnFulfillment"]["tracking"]["url"] = "not a url"
    assert not _is_valid(name, bad)
    bad = _example(name)
    bad["returnFulfillment"]["items"][0]["quantity"] = 0
    assert not _is_valid(name, bad)
    bad = _example(name)
    del bad["returnFulfillment"]["documents"][0]["type"]
    assert not _is_valid(name, bad)


def test_global_list_requires_order_id_on_every_return() -> None:
    name = "return-list-global.envelope.schema.json"
    envelope = _example(name)
    assert _is_valid(name, envelope)
    del envelope["returns"][1]["orderId"]
    assert schemas.violations(name, envelope) == ["/returns/1: 'orderId' is a required property"]
    assert _is_valid("return-list.envelope.schema.json", envelope)  # per-order list: optional
    envelope["returns"][1]["orderId"] = ""
    assert not _is_valid(name, envelope)


def test_envelopes_require_success_true() -> None:
    envelope = _example("return.envelope.schema.json")
    envelope["success"] = False
    assert not _is_valid("return.envelope.schema.json", envelope)
    assert not _is_valid("return-list.envelope.schema.json", {"success": True})
    assert not _is_valid(
        "return-list.envelope.schema.json", {"success": True, "returns": [], "page": {"next": 3}}
    )


def test_error_body_bites() -> None:
    name = "error.schema.json"
    good = {"success": False, "code": 404, "error": "NOT_FOUND", "message": "no such return"}
    assert _is_valid(name, good)
    assert _is_valid(name, {**good, "details": [{"field": "/x", "message": "y"}], "extra": 1})
    for change in (
        {"code": "404"},
        {"code": 200},
        {"code": 600},
        {"error": "not found"},
        {"error": ""},
        {"success": True},
        {"details": ["a string"]},
    ):
        assert not _is_valid(name, {**good, **change}), change
    assert not _is_valid(name, {k: v for k, v in good.items() if k != "message"})


def test_fulfillment_tracking_and_status() -> None:
    name = "return-fulfillment.schema.json"
    rf = _example(name)
    rf["status"] = None
    rf["tracking"]["url"] = None
    assert _is_valid(name, rf)
    rf["tracking"]["url"] = "//no-scheme.example.com/x"
    assert not _is_valid(name, rf)
    del rf["tracking"]["number"]
    assert not _is_valid(name, rf)


def test_capability_matrix_bites() -> None:
    name = "capability-matrix.schema.json"
    matrix = _example(name)
    assert _is_valid(name, matrix)

    missing = copy.deepcopy(matrix)
    del missing["operations"]["createReturn"]
    assert schemas.violations(name, missing) == [
        "/operations: 'createReturn' is a required property"
    ]
    extra = copy.deepcopy(matrix)
    extra["operations"]["listOrders"] = extra["operations"]["getReturn"]
    assert not _is_valid(name, extra)

    no_reason = copy.deepcopy(matrix)
    no_reason["operations"]["listReturns"]["reasons"] = []
    assert schemas.violations(name, no_reason) == [
        "/operations/listReturns/reasons: [] should be non-empty"
    ]
    supported_without_reason = copy.deepcopy(matrix)
    assert supported_without_reason["operations"]["getReturn"]["reasons"] == []

    mutations: list[Callable[[Any], object]] = [
        lambda m: m.update(schemaVersion="2.0"),
        lambda m: m["platform"].update(target="https://user:secret@shop.example.com"),
        lambda m: m["provenance"].update(schemaHash="sha256:abc"),
        lambda m: m["provenance"].update(generatedAt="yesterday"),
        lambda m: m["summary"].update(failing=-1),
        lambda m: m["summary"].update(extra=1),
        lambda m: m["operations"]["getReturn"].update(status="maybe"),
        lambda m: m["operations"]["listReturns"]["reasons"].append("Not-A-Code"),
        lambda m: m["operations"]["listReturns"]["reasons"].append("not_supported"),
        lambda m: m["operations"]["listReturns"]["findings"][0].pop("evidence"),
        lambda m: m["operations"]["listReturns"]["findings"][0]["evidence"][0].update(x=1),
    ]
    for mutate in mutations:
        broken = copy.deepcopy(matrix)
        mutate(broken)
        assert not _is_valid(name, broken), broken

    transport_error = copy.deepcopy(matrix)
    evidence = transport_error["operations"]["listReturns"]["findings"][0]["evidence"][0]
    evidence["response"] = None
    assert _is_valid(name, transport_error)


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-01T10:00:00Z",
        "2025-03-01t10:00:00z",
        "2025-03-01T10:00:00.123456+05:30",
        "2024-02-29T00:00:00-00:00",
        "1998-12-31T23:59:60Z",
        "1998-12-31T15:59:60.123-08:00",
    ],
)
def test_date_time_accepts_rfc3339(value: str) -> None:
    assert schemas.is_date_time(value)
    assert schemas.FORMAT_CHECKER.conforms(value, "date-time")


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-01 10:00:00Z",
        "2025-03-01T10:00:00",
        "2025-03-01",
        "2025-13-01T10:00:00Z",
        "2023-02-29T10:00:00Z",
        "2025-03-01T24:00:00Z",
        "2025-03-01T10:00:00+0100",
        "2025-03-01T10:00:00+24:00",
        "1998-12-31T22:59:60Z",
        "2025-03-01T10:00:00.Z",
        "2025-03-01T10:00:00Z\n",
        "\uff12\uff10\uff12\uff15-03-01T10:00:00Z",  # non-ASCII digits
        "",
    ],
)
def test_date_time_rejects_the_rest(value: str) -> None:
    assert not schemas.is_date_time(value)
    assert not schemas.FORMAT_CHECKER.conforms(value, "date-time")


@pytest.mark.parametrize(
    "value",
    ["https://example.com/a?b=c#d", "http://127.0.0.1:8000", "urn:isbn:0451450523", "x-y.z+w:"],
)
def test_uri_accepts_absolute_uris(value: str) -> None:
    assert schemas.FORMAT_CHECKER.conforms(value, "uri")


@pytest.mark.parametrize(
    "value",
    [
        "example.com/x",
        "/relative",
        "//host/x",
        "1http://x",
        "https://exa mple.com",
        "http://x\n",
        "",
    ],
)
def test_uri_rejects_the_rest(value: str) -> None:
    assert not schemas.FORMAT_CHECKER.conforms(value, "uri")


def test_formats_ignore_non_strings() -> None:
    assert schemas.is_date_time(5)
    assert schemas.is_uri(None)


# --------------------------------------------------------------------------- loader errors


def test_unknown_schema_name_is_a_schema_files_error() -> None:
    with pytest.raises(SchemaFilesError, match=r"unknown schema file 'nope\.json'") as info:
        schemas.validator("nope.json")
    assert info.value.hint and "return.schema.json" in info.value.hint


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.schema.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SchemaFilesError, match=r"broken\.schema\.json"):
        schemas._load_dir(tmp_path)


@pytest.mark.parametrize("schema_id", [schemas.BASE_URI + "a.schema.json", "a.schema.json"])
def test_an_id_names_the_file(tmp_path: Path, schema_id: str) -> None:
    """An ``$id`` (absolute or relative) would make tools resolve ``$ref``s against it instead
    of against the file's location, so the loader refuses it."""
    (tmp_path / "a.schema.json").write_text(json.dumps({"$id": schema_id}), encoding="utf-8")
    with pytest.raises(SchemaFilesError, match=r"a\.schema\.json has \$id .*carry no \$id"):
        schemas._load_dir(tmp_path)


def test_the_loader_gives_each_file_its_base_uri(tmp_path: Path) -> None:
    (tmp_path / "a.schema.json").write_text('{"$ref": "b.schema.json"}', encoding="utf-8")
    (tmp_path / "b.schema.json").write_text('{"type": "integer"}', encoding="utf-8")
    loaded = schemas._load_dir(tmp_path)
    assert loaded.schemas["a.schema.json"]["$id"] == schemas.BASE_URI + "a.schema.json"
    validator = jsonschema.Draft202012Validator(
        loaded.schemas["a.schema.json"], registry=loaded.registry
    )
    assert validator.is_valid(1) and not validator.is_valid("1")


def test_empty_directory_is_a_schema_files_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaFilesError, match="no schema files"):
        schemas._load_dir(tmp_path)


def test_schema_hash(tmp_path: Path) -> None:
    digest = schemas.schema_hash()
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert digest == schemas._hash_dir(SCHEMA_DIR)
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    first = schemas._hash_dir(tmp_path)
    (tmp_path / "a.json").write_text("{ }", encoding="utf-8")
    assert schemas._hash_dir(tmp_path) != first


def test_violations_are_capped() -> None:
    many = {"success": True, "returns": [{"status": 1}] * 30}
    found = schemas.violations("return-list.envelope.schema.json", many)
    assert len(found) == schemas.MAX_VIOLATIONS


# --------------------------------------------------------------------------- schemathesis


def _schemathesis_schema() -> Any:
    import schemathesis

    schema = schemathesis.openapi.from_path(schemas.openapi_path())
    schema.config.update(base_url="http://127.0.0.1:1")
    return schema


def test_schemathesis_loads_all_operations() -> None:
    schema = _schemathesis_schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    expected = {
        f"{row['method']} {row['path']}"
        for table in (_operations_toml()["operation"], _operations_toml()["discovery"])
        for row in table
    }
    assert len(operations) == 12
    assert labels == expected


def test_schemathesis_generates_valid_create_return_bodies() -> None:
    schema = _schemathesis_schema()
    operation = schema["/api/v2/orders/{orderId}/returns"]["POST"]
    bodies: list[object] = []

    @settings(
        max_examples=5,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def collect(case: Any) -> None:
        bodies.append(case.body)

    collect()
    assert bodies
    for body in bodies:
        assert schemas.violations("create-return.request.schema.json", body) == []
