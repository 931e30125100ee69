#!/usr/bin/env python3
"""openapi_check.py SPEC PATH METHOD STATUS BODYFILE: validate a response
body against the schema docs/openapi.yaml gives for that operation and
status (content type application/json, or text/plain for a string).

Resolves $ref (components/schemas, components/responses), turns OpenAPI
3.0's `nullable` into JSON Schema's type lists, and validates with
python3-jsonschema.  Exit 0 when it fits; 1 with the reason otherwise.
"""
import json
import sys

import jsonschema
import yaml


def resolve(spec, node):
    """Follow $ref until a plain node."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def to_jsonschema(spec, node):
    """OpenAPI 3.0 schema object -> JSON Schema (draft 7)."""
    node = resolve(spec, node)
    if isinstance(node, list):
        return [to_jsonschema(spec, n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("properties",):
            out[k] = {p: to_jsonschema(spec, s) for p, s in v.items()}
        elif k in ("items", "additionalProperties") and isinstance(v, dict):
            out[k] = to_jsonschema(spec, v)
        elif k in ("description", "nullable", "example"):
            continue
        else:
            out[k] = v
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def operation(spec, path, method):
    """The operation for a concrete path.  A method the path does not take
    has no operation: its 405 answer is documented on the path's
    operations, so the first of them stands for it."""
    item = path_item(spec, path)
    if method in item:
        return item[method]
    ops = [v for k, v in item.items() if k in ("get", "post", "put", "delete", "head")]
    if ops and "405" in ops[0]["responses"]:
        return {"responses": {"405": ops[0]["responses"]["405"]}}
    raise KeyError(f"{method.upper()} {path}: no operation in the spec")


def path_item(spec, path):
    """The path item for a concrete path, matching {templates}."""
    paths = spec["paths"]
    if path in paths:
        return paths[path]
    parts = path.strip("/").split("/")
    for tmpl, item in paths.items():
        tparts = tmpl.strip("/").split("/")
        if len(tparts) == len(parts) and all(
                t == p or (t.startswith("{") and t.endswith("}"))
                for t, p in zip(tparts, parts)):
            return item
    raise KeyError(f"{path}: not in the spec")


def main():
    spec_file, path, method, status, body_file = sys.argv[1:6]
    with open(spec_file) as f:
        spec = yaml.safe_load(f)
    op = operation(spec, path.split("?")[0], method.lower())
    if status not in op["responses"]:
        print(f"{method} {path}: status {status} is not in the spec "
              f"({', '.join(op['responses'])})")
        return 1
    resp = resolve(spec, op["responses"][status])
    content = resp.get("content", {})
    with open(body_file) as f:
        text = f.read()
    if "application/json" in content:
        schema = to_jsonschema(spec, content["application/json"]["schema"])
        body = json.loads(text)
    elif "text/plain" in content:
        schema = to_jsonschema(spec, content["text/plain"]["schema"])
        body = text
    else:
        print(f"{method} {path} {status}: the spec gives no content")
        return 1
    try:
        jsonschema.validate(body, schema)
    except jsonschema.ValidationError as e:
        print(f"{method} {path} {status}: {e.message} at {list(e.absolute_path)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
