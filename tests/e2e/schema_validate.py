#!/usr/bin/python3
"""Validates migscope JSON reports against docs/report.schema.json with
Debian's python3-jsonschema (Draft 2020-12; formats are not asserted).

  schema_validate.py SCHEMA --check-schema
      the schema against the 2020-12 metaschema, and strict as documented:
      every object schema has a description, additionalProperties false and
      requires every property it lists
  schema_validate.py SCHEMA REPORT...
      each report against the schema

Prints one line per file, "valid FILE" or "invalid FILE: N error(s): PATH:
MESSAGE; ...", and exits 1 when any file is invalid, 2 on a usage error.

A report is read as written: a number with a decimal point stays a Decimal
(so an integer key written as 5.0 is not an integer), NaN/Infinity and a key
twice in one object are errors (Python's json would accept both), and every
*_us value must be written with exactly three decimals, a rule of the
contract that JSON Schema cannot see (it sees values, not their spelling).
"""
import decimal
import json
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match
except ImportError as e:  # the test reports it as a failure
    print(f"invalid {sys.argv[1] if len(sys.argv) > 1 else '-'}: no jsonschema module "
          f"for {sys.executable} ({e}); tests/deps.sh test installs python3-jsonschema")
    sys.exit(1)

MAX_SHOWN = 3


class ReadError(Exception):
    pass


def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ReadError(f"key {key!r} twice in one object")
        obj[key] = value
    return obj


def no_constant(name):
    raise ReadError(f"{name} is not JSON")


def read_report(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text, parse_float=decimal.Decimal, parse_constant=no_constant,
                          object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise ReadError(f"not JSON: {e}") from None


def pointer(path):
    return "/" + "/".join(str(p) for p in path)


def spelling_errors(node, path=()):
    """*_us values not written with exactly three decimals."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_us") and value is not None and not (
                    isinstance(value, decimal.Decimal) and value.as_tuple().exponent == -3):
                yield f"{pointer(path + (key,))}: {value} is not written with three decimals"
            yield from spelling_errors(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from spelling_errors(value, path + (i,))


def schema_errors(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        leaf = best_match([error])  # the branch of a oneOf that explains it
        yield f"{pointer(leaf.absolute_path)}: {leaf.message}"


def strictness_errors(node, path=()):
    """Object schemas that do not say what they are or let keys slip."""
    if isinstance(node, dict):
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            where = pointer(path)
            if "description" not in node:
                yield f"{where}: object schema without a description"
            if node.get("additionalProperties") is not False:
                yield f"{where}: object schema without additionalProperties false"
            props = set(node.get("properties", {}))
            required = node.get("required", [])
            if set(required) != props or len(required) != len(props):
                yield f"{where}: required {sorted(required)} is not its properties {sorted(props)}"
        for key, value in node.items():
            yield from strictness_errors(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strictness_errors(value, path + (i,))


def line(path, errors):
    if not errors:
        return f"valid {path}"
    shown = "; ".join(errors[:MAX_SHOWN]) + ("; ..." if len(errors) > MAX_SHOWN else "")
    return f"invalid {path}: {len(errors)} error(s): {shown}"


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_path = argv[1]
    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f, object_pairs_hook=no_duplicates)
    except (OSError, ValueError, ReadError) as e:
        print(f"invalid {schema_path}: {e}")
        return 1
    if argv[2] == "--check-schema":
        errors = [f"{pointer(e.absolute_path)}: {e.message}"
                  for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema)]
        if schema.get("$schema") != Draft202012Validator.META_SCHEMA["$id"]:
            errors.append(f"/$schema: {schema.get('$schema')!r} is not draft 2020-12")
        errors += strictness_errors(schema)
        print(line(schema_path, errors))
        return 1 if errors else 0
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"invalid {schema_path}: not a 2020-12 schema: {e.message}")
        return 1
    validator = Draft202012Validator(schema)
    failed = False
    for path in argv[2:]:
        try:
            doc = read_report(path)
            errors = list(schema_errors(validator, doc)) + list(spelling_errors(doc))
        except (OSError, UnicodeDecodeError, ReadError) as e:
            errors = [str(e)]
        failed |= bool(errors)
        print(line(path, errors), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
