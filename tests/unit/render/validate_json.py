#!/usr/bin/python3
"""ctest helper: renders every fixture host (and this machine, sampled until cpu utilisation is
known) with render_fixture and validates each /v1/node document against docs/node.schema.json.
usage: validate_json.py <render_fixture> <fixtures/hosts dir> <docs/node.schema.json>"""
import json
import pathlib
import subprocess
import sys

import jsonschema


def main():
    tool, hosts, schema_path = sys.argv[1:4]
    schema = json.loads(pathlib.Path(schema_path).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    roots = sorted(p for p in pathlib.Path(hosts).iterdir() if (p / "proc").is_dir())
    runs = [[tool, str(r), "json"] for r in roots] + [[tool, "/", "json", "--until-utilisation"]]
    checked = 0
    for argv in runs:
        doc = json.loads(subprocess.run(argv, check=True, capture_output=True).stdout)
        errors = list(validator.iter_errors(doc))
        for e in errors:
            print(f"{argv[1]}: {e.json_path}: {e.message}", file=sys.stderr)
        if errors:
            return 1
        checked += 1
    if doc["cpu"]["utilisation"] is None:  # the last run is this machine, sampled twice
        print("this machine: cpu utilisation never became known", file=sys.stderr)
        return 1
    print(f"{checked} documents valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
