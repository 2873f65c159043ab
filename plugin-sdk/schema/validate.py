#!/usr/bin/env python3
"""Validates JSON documents against pfhost's schemas.

    python3 plugin-sdk/schema/validate.py SCHEMA FILE...

SCHEMA is a file name in this directory (e.g. manifest.schema.json or layer-world.schema.json).
Prints one line per error and exits 1 when any document is invalid. Needs the `jsonschema` package.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource

here = pathlib.Path(__file__).resolve().parent
schemas = {p.name: json.loads(p.read_text()) for p in here.glob("*.schema.json")}
registry = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())

def main(argv):
    if len(argv) < 3 or argv[1] not in schemas:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schemas[argv[1]], registry=registry)
    failed = False
    for name in argv[2:]:
        document = json.loads(pathlib.Path(name).read_text())
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in error.path) or "(top level)"
            print(f"{name}: {where}: {error.message}")
            failed = True
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
