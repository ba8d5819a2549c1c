"""Reading what users hand us: one bounded YAML loader, one JSON loader, and one-line messages.

Every config, request and project file the CLI reads (stack files, request files, Pulumi.yaml) goes through
``load_yaml``; placement locks go through ``load_json``. Both refuse, with one line naming the file:
bytes that are not UTF-8, nesting deeper than any real config, YAML aliases that expand past a bound (a
"billion laughs" is a few hundred bytes that expand to 10^9 nodes: constructing it is cheap because the
expansions share objects, but validating or printing it is not), and duplicate mapping keys (YAML would keep
the last one silently). Values echoed in a message are truncated, so no message can be huge.
"""

from __future__ import annotations

import difflib
import json
import reprlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_ECHO = 80  # characters of a bad value shown in a message
MAX_DEPTH = 64  # nesting levels; the reference configs use 5
MAX_NODES = 100_000  # scalars + collections after alias expansion; the reference configs hold ~300
MAX_BYTES = 8 * 1024 * 1024  # an input file larger than this is not a config


class InputError(ValueError):
    """A file the CLI refuses: one line naming the file, what is wrong and what is valid."""


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_ECHO
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 4
_repr.maxlevel = 3


def echo(value: Any, limit: int = MAX_ECHO) -> str:
    """repr(value), bounded in time and length (a huge or deeply shared value costs no more than a small one)."""
    text = _repr.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def listing(items: Iterable[Any]) -> str:
    """`a, b, c` (sorted, de-duplicated) for a message; 'none' when empty."""
    values = sorted({str(i) for i in items})
    return ", ".join(values) if values else "none"


def did_you_mean(word: Any, choices: Iterable[Any]) -> str:
    """' (did you mean X?)' for a near miss among ``choices``, else ''."""
    if not isinstance(word, str):
        return ""
    options = sorted({str(c) for c in choices})
    by_lower = {o.lower(): o for o in options}
    if word.lower() in by_lower and by_lower[word.lower()] != word:
        return f" (did you mean {by_lower[word.lower()]}?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _read_text(path: Path, what: str) -> str:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: does not exist (no such {what})") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; a {what} is a file") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read the {what} ({err.strerror or type(err).__name__})") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: {len(data):,} bytes; a {what} holds at most {MAX_BYTES:,}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: byte 0x{data[err.start]:02x} is not UTF-8; "
                         f"save the {what} as UTF-8") from None


class _Loader(yaml.SafeLoader):
    """SafeLoader with a depth bound while composing and duplicate keys refused while constructing."""

    def __init__(self, text: str, name: str):
        super().__init__(text)
        self.name = name  # marks cite the file instead of "<unicode string>"
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise InputError(f"{self.name}: line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels; "
                                 "a config is a few levels of mappings and lists")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        if isinstance(node, MappingNode):
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise InputError(f"{self.name}: line {line}: key {echo(key)} repeats the key of line "
                                     f"{seen[key]}; YAML would keep only the last one: write it once")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: Node, name: str) -> None:
    """Nodes after alias expansion (aliases share node objects, so sizes are memoised by identity)."""
    size: dict[int, int] = {}
    busy: set[int] = set()

    def walk(node: Node) -> int:
        key = id(node)
        if key in size:
            return size[key]
        if key in busy:
            raise InputError(f"{name}: line {node.start_mark.line + 1}: an alias refers to a value that contains "
                             "it (a recursive anchor); write the value out")
        busy.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(walk(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(walk(k) + walk(v) for k, v in node.value)
        busy.discard(key)
        size[key] = total
        if total > MAX_NODES:
            raise InputError(f"{name}: line {node.start_mark.line + 1}: anchors and aliases expand to more than "
                             f"{MAX_NODES:,} values; write the values out or use fewer aliases")
        return total

    walk(root)


def _yaml_message(name: str, err: yaml.YAMLError) -> str:
    if isinstance(err, yaml.reader.ReaderError):
        return (f"{name}: character {err.character:#04x} at offset {err.position} is not allowed in YAML "
                f"({err.reason}); remove it")
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        parts = [p for p in (err.context, err.problem) if p]
        return f"{name}:{where} not valid YAML: {'; '.join(parts)}"
    return f"{name}: not valid YAML: {' '.join(str(err).split())}"


def parse_yaml(text: str, name: str) -> Any:
    """The one YAML reader: safe tags only, bounded depth and alias expansion, duplicate keys refused."""
    loader = None
    try:
        loader = _Loader(text, name)
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, name)
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise InputError(_yaml_message(name, err)) from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply; a config is a few levels of mappings and lists") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: Path, what: str = "YAML file") -> Any:
    return parse_yaml(_read_text(path, what), str(path))


def _json_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _finite(text: str) -> float:
    raise ValueError(f"{text} is not a finite number")


def parse_json(text: str, name: str) -> Any:
    """JSON as written by newinfra: no NaN/Infinity, bounded nesting."""
    if _json_depth(text) > MAX_DEPTH:
        raise InputError(f"{name}: nested deeper than {MAX_DEPTH} levels; not a file newinfra wrote")
    try:
        return json.loads(text, parse_constant=_finite)
    except json.JSONDecodeError as err:
        raise InputError(f"{name}: line {err.lineno}, column {err.colno}: is not JSON: {err.msg}") from None
    except ValueError as err:
        raise InputError(f"{name}: is not JSON newinfra accepts: {err}") from None


def load_json(path: Path, what: str = "JSON file") -> Any:
    return parse_json(_read_text(path, what), str(path))
