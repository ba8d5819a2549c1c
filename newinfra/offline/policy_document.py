"""``aws:iam/getPolicyDocument`` computed as the provider computes it, offline and exactly.

Follows terraform-provider-aws (which pulumi-aws bridges), ``internal/service/iam/policy_document_data_source.go``
and ``policy_model.go``:

- the document is ``Version`` (default "2012-10-17"), ``Id`` (policy_id, left out when empty), ``Statement``;
  each statement's keys in the order Sid, Effect (default "Allow"), Action, NotAction, Resource, NotResource,
  Principal, NotPrincipal, Condition; empty ones left out;
- actions, resources and principal identifiers are sets: one value is written as a string, several sorted
  in descending order (``slices.Sort`` then ``slices.Reverse``); condition values keep their order and one
  value is written as a string;
- ``&{`` becomes ``${`` in resources, principal identifiers and condition values (refused in version
  2008-10-17);
- a lone principal of type ``*`` with identifier ``*`` is written as ``"*"``; principals of one type merge;
  conditions with one test and variable merge; keys of Principal and Condition maps are sorted (Go's
  encoding/json sorts map keys);
- source_policy_documents are merged first (a repeated Sid among them is an error), then the statements, then
  override_policy_documents (a statement with the Sid of an earlier one replaces it);
- ``json`` is ``json.MarshalIndent(doc, "", "  ")``, ``minifiedJson`` ``json.Marshal(doc)`` (both escape
  ``<``, ``>``, ``&``, U+2028 and U+2029 as Go does), ``id`` the CRC-32 of ``json`` as a decimal string.

Where the provider's set ordering (by hash) would decide the order of two principal blocks of one type, or
two condition blocks with one test and variable, the order the program gives is kept.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

VERSIONS = ("2008-10-17", "2012-10-17")


class PolicyDocumentError(ValueError):
    """The provider would refuse these arguments; the message is the provider's."""


def _strings(values: Any) -> list[str]:
    return [str(v) for v in (values or [])]


def _decode_set(values: list[str]) -> str | list[str] | None:
    """policyDecodeConfigStrings over a set: duplicates gone, one value as a string, else descending."""
    unique = sorted(set(values))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    return unique[::-1]


def _replace_vars(value: str | list[str], version: str) -> str | list[str]:
    items = [value] if isinstance(value, str) else value
    for item in items:
        if version == "2008-10-17" and "&{" in item:
            raise PolicyDocumentError(f"found &{{ sequence in ({item}), which is not supported in document "
                                      "version 2008-10-17")
    replaced = [item.replace("&{", "${") for item in items]
    return replaced[0] if isinstance(value, str) else replaced


def _principals_json(principals: list[tuple[str, str | list[str]]]) -> str | dict[str, Any]:
    if len(principals) == 1:
        typ, ident = principals[0]
        if typ == "*" and (ident == "*" or ident == ["*"]):
            return "*"
    raw: dict[str, Any] = {}
    for typ, ident in principals:
        current = raw.get(typ)
        if isinstance(ident, list):
            merged = [] if current is None else ([current] if isinstance(current, str) else list(current))
            raw[typ] = merged + sorted(ident, reverse=True)
        elif current is None:
            raw[typ] = ident
        elif isinstance(current, str):
            raw[typ] = [current, ident]
        else:
            raw[typ] = [*current, ident]
    return {k: raw[k] for k in sorted(raw)}


def _conditions_json(conditions: list[tuple[str, str, str | list[str]]]) -> dict[str, Any]:
    raw: dict[str, dict[str, list[str]]] = {}
    for test, variable, values in conditions:
        slot = raw.setdefault(test, {}).setdefault(variable, [])
        slot.extend([values] if isinstance(values, str) else values)
    return {test: {var: (vals[0] if len(vals) == 1 else vals) for var, vals in sorted(raw[test].items())}
            for test in sorted(raw)}


def _statement(stmt: dict[str, Any], version: str) -> dict[str, Any]:
    """One statement of the program's ``statements`` argument, as the provider models it."""
    out: dict[str, Any] = {}
    effect = stmt.get("effect") or "Allow"
    if effect not in ("Allow", "Deny"):
        raise PolicyDocumentError(f"expected effect to be one of [\"Allow\" \"Deny\"], got {effect}")
    if stmt.get("sid"):
        out["Sid"] = str(stmt["sid"])
    out["Effect"] = effect
    for key, name, replace in (("actions", "Action", False), ("notActions", "NotAction", False),
                               ("resources", "Resource", True), ("notResources", "NotResource", True)):
        decoded = _decode_set(_strings(stmt.get(key)))
        if decoded is not None:
            out[name] = _replace_vars(decoded, version) if replace else decoded
    for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        blocks = stmt.get(key) or []
        if blocks:
            principals = []
            for block in blocks:
                ident = _decode_set(_strings(block.get("identifiers")))
                principals.append((str(block["type"]), _replace_vars(ident if ident is not None else [], version)))
            out[name] = principals
    blocks = stmt.get("conditions") or []
    if blocks:
        conditions = []
        for block in blocks:
            values = _replace_vars(_strings(block.get("values")), version)
            conditions.append((str(block["test"]), str(block["variable"]),
                               values[0] if len(values) == 1 else values))
        out["Condition"] = conditions
    return out


def _from_json(text: str, which: str, index: int) -> dict[str, Any]:
    """A source or override document as the provider unmarshals it into its model."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise PolicyDocumentError(f"writing IAM Policy Document: merging {which} document {index}: {e}") from None
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):  # the model's Statement is a list; one object does not unmarshal
        raise PolicyDocumentError(f"writing IAM Policy Document: merging {which} document {index}: json: cannot "
                                  "unmarshal object into Go struct field .Statement")
    model: dict[str, Any] = {"Version": str(doc.get("Version") or ""), "Id": str(doc.get("Id") or ""), "Statement": []}
    for s in statements:
        stmt: dict[str, Any] = {}
        for key in ("Sid", "Effect"):
            if s.get(key):
                stmt[key] = s[key]
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if s.get(key) is not None:
                stmt[key] = s[key]  # kept as written: the model holds `any` (only null is left out)
        for key in ("Principal", "NotPrincipal"):
            p = s.get(key)
            if p is None or p == {}:
                continue
            if isinstance(p, str):
                stmt[key] = [("*", ["*"])]
            else:
                stmt[key] = [(t, v if isinstance(v, str) else sorted(v)) for t, v in p.items()]
        cond = s.get("Condition")
        if cond:
            stmt["Condition"] = [
                (test, var, [vals] if isinstance(vals, str) else (str(vals).lower() if isinstance(vals, bool)
                                                                    else [str(v) for v in vals]))
                for test, variables in cond.items() for var, vals in variables.items()
                if isinstance(vals, str | bool | list)]
        model["Statement"].append(stmt)
    return model


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    if new.get("Id"):
        into["Id"] = new["Id"]
    if new.get("Version", "") > into.get("Version", ""):
        into["Version"] = new["Version"]
    for stmt in new["Statement"]:
        sid = stmt.get("Sid", "")
        if sid:
            for i, existing in enumerate(into["Statement"]):
                if existing.get("Sid", "") == sid:
                    into["Statement"][i] = stmt
                    break
            else:
                into["Statement"].append(stmt)
        else:
            into["Statement"].append(stmt)


def _render(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if doc.get("Version"):
        out["Version"] = doc["Version"]
    if doc.get("Id"):
        out["Id"] = doc["Id"]
    statements = []
    for stmt in doc["Statement"]:
        rendered: dict[str, Any] = {}
        for key in ("Sid", "Effect"):
            if stmt.get(key):
                rendered[key] = stmt[key]
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if stmt.get(key) is not None:
                rendered[key] = stmt[key]
        for key in ("Principal", "NotPrincipal"):
            if stmt.get(key):
                rendered[key] = _principals_json(stmt[key])
        if stmt.get("Condition"):
            rendered["Condition"] = _conditions_json(stmt["Condition"])
        statements.append(rendered)
    if statements:
        out["Statement"] = statements
    return out


def _go_escape(text: str) -> str:
    """encoding/json's HTML-safe escaping, which json.Marshal applies by default."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """The invoke's result for the program's arguments (camelCase keys, as the SDK sends them)."""
    version = args.get("version") or "2012-10-17"
    if version not in VERSIONS:
        raise PolicyDocumentError(f"expected version to be one of [\"2008-10-17\" \"2012-10-17\"], got {version}")
    for key in ("overrideJson", "sourceJson"):
        if args.get(key):
            raise PolicyDocumentError(f"{key}: expected to be empty (not used by the provider), got {args[key]!r}")
    merged: dict[str, Any] = {"Version": "", "Id": "", "Statement": []}
    seen: set[str] = set()
    for index, text in enumerate(args.get("sourcePolicyDocuments") or []):
        if text is None:
            continue
        source = _from_json(str(text), "source", index)
        for n, stmt in enumerate(source["Statement"]):
            sid = stmt.get("Sid", "")
            if sid and sid in seen:
                raise PolicyDocumentError(f"writing IAM Policy Document: merging source document {index}: duplicate "
                                          f"Sid ({sid}) in source_policy_documents (statement {n}). Remove the Sid "
                                          "or ensure Sids are unique.")
            if sid:
                seen.add(sid)
        _merge(merged, source)
    doc: dict[str, Any] = {"Version": version, "Id": str(args.get("policyId") or ""), "Statement": []}
    sids: set[str] = set()
    for stmt in args.get("statements") or []:
        sid = str(stmt.get("sid") or "")
        if sid and sid in sids:
            raise PolicyDocumentError(f"writing IAM Policy Document: duplicate Sid ({sid}). Remove the Sid or "
                                      "ensure the Sid is unique.")
        if sid:
            sids.add(sid)
        doc["Statement"].append(_statement(stmt, version))
    _merge(merged, doc)
    for index, text in enumerate(args.get("overridePolicyDocuments") or []):
        if text is not None:
            _merge(merged, _from_json(str(text), "override", index))
    rendered = _render(merged)
    pretty = _go_escape(json.dumps(rendered, indent=2, ensure_ascii=False))
    minified = _go_escape(json.dumps(rendered, separators=(",", ":"), ensure_ascii=False))
    return {
        **{k: v for k, v in args.items() if v is not None},
        "version": version,
        "json": pretty,
        "minifiedJson": minified,
        "id": str(zlib.crc32(pretty.encode())),
    }
