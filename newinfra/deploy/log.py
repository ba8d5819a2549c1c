"""The deployment log of one stack: append-only JSON lines, ``<stackConfigDir>/deployments/<stack>.jsonl``.

Two kinds of line, each a JSON object on its own line:
- ``{"event": "deploy", "id": N, "time", "kind": "up"|"rollback", "rollbackOf": id|null, "commit",
  "configSha256", "lockSha256", "recordSha256"}`` — ids count 1, 2, 3… in file order;
- ``{"event": "gate", "deploy": N, "time", "verdict": "passed"|"failed", "reasons": [...]}`` — at most one per
  deploy, after it. A deploy without a gate line has the verdict "none" and is never a rollback target.

The config and lock a deploy used are kept content-addressed beside the log (``deployments/blobs/<sha256>``)
so a rollback restores exactly those bytes (their hash is checked on the way out). Reading validates every
line; a damaged line is a LogError naming ``file:line``, and the log is never rewritten: appends take an
exclusive flock, re-read and validate the whole log under it, then write one line and fsync.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from newinfra.atomic import file_lock, write_text

VERDICTS = ("passed", "failed")
KINDS = ("up", "rollback")
_DEPLOY_KEYS = {"event", "id", "time", "kind", "rollbackOf", "commit", "configSha256", "lockSha256",
                "recordSha256"}
_GATE_KEYS = {"event", "deploy", "time", "verdict", "reasons"}


class LogError(ValueError):
    """A damaged deployment log (``file:line: what is wrong``) or a missing/altered blob; exit 2."""


@dataclass(frozen=True)
class Deploy:
    id: int
    time: str
    kind: str
    rollback_of: int | None
    commit: str
    config_sha256: str
    lock_sha256: str | None  # None: the stack had no lock
    record_sha256: str
    verdict: str = "none"  # passed / failed / none (no gate line)
    reasons: tuple[str, ...] = field(default=())


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def log_path(stack_config_dir: Path, stack: str) -> Path:
    return Path(stack_config_dir) / "deployments" / f"{stack}.jsonl"


def _blob_dir(path: Path) -> Path:
    return path.parent / "blobs"


def _is_sha(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _check_deploy(doc: dict, expected_id: int, seen: dict[int, Deploy], where: str) -> Deploy:
    if set(doc) != _DEPLOY_KEYS:
        raise LogError(f"{where}: a deploy line has keys {sorted(doc)}; valid: {sorted(_DEPLOY_KEYS)}")
    if doc["id"] != expected_id or isinstance(doc["id"], bool):
        raise LogError(f"{where}: deploy id is {doc['id']!r}; valid: {expected_id} (ids count up from 1)")
    if doc["kind"] not in KINDS:
        raise LogError(f"{where}: kind is {doc['kind']!r}; valid: {list(KINDS)}")
    if doc["rollbackOf"] is not None and doc["rollbackOf"] not in seen:
        raise LogError(f"{where}: rollbackOf is {doc['rollbackOf']!r}; valid: null or an earlier deploy id")
    for key in ("configSha256", "recordSha256"):
        if not _is_sha(doc[key]):
            raise LogError(f"{where}: {key} is {doc[key]!r}; valid: a sha256 in lowercase hex")
    if doc["lockSha256"] is not None and not _is_sha(doc["lockSha256"]):
        raise LogError(f"{where}: lockSha256 is {doc['lockSha256']!r}; valid: null or a sha256 in lowercase hex")
    for key in ("time", "commit"):
        if not isinstance(doc[key], str):
            raise LogError(f"{where}: {key} is {doc[key]!r}; valid: a string")
    return Deploy(doc["id"], doc["time"], doc["kind"], doc["rollbackOf"], doc["commit"], doc["configSha256"],
                  doc["lockSha256"], doc["recordSha256"])


def _check_gate(doc: dict, seen: dict[int, Deploy], where: str) -> None:
    if set(doc) != _GATE_KEYS:
        raise LogError(f"{where}: a gate line has keys {sorted(doc)}; valid: {sorted(_GATE_KEYS)}")
    target = seen.get(doc["deploy"]) if isinstance(doc["deploy"], int) else None
    if target is None:
        raise LogError(f"{where}: gate for deploy {doc['deploy']!r}; valid: an earlier deploy id {sorted(seen)}")
    if target.verdict != "none":
        raise LogError(f"{where}: a second gate line for deploy {target.id}; valid: one per deploy")
    if doc["verdict"] not in VERDICTS:
        raise LogError(f"{where}: verdict is {doc['verdict']!r}; valid: {list(VERDICTS)}")
    if not isinstance(doc["reasons"], list) or not all(isinstance(r, str) for r in doc["reasons"]):
        raise LogError(f"{where}: reasons is {doc['reasons']!r}; valid: a list of strings")
    seen[target.id] = dataclasses.replace(target, verdict=doc["verdict"], reasons=tuple(doc["reasons"]))


def parse_log(data: bytes, path: Path) -> list[Deploy]:
    """The deploys of a log's bytes with their gate verdicts, in id order. Raises LogError naming file:line."""
    seen: dict[int, Deploy] = {}
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] != b"":
        raise LogError(f"{path}:{len(lines)}: truncated line (no newline at its end); valid: one complete JSON "
                       "object per line. The log is left as it is: restore it from a backup or remove that line")
    for number, raw in enumerate(lines[:-1], start=1):
        where = f"{path}:{number}"
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise LogError(f"{where}: not a JSON object ({err.__class__.__name__}: {err}); valid: one complete "
                           "JSON object per line. The log is left as it is") from None
        if not isinstance(doc, dict) or doc.get("event") not in ("deploy", "gate"):
            raise LogError(f"{where}: event is {doc.get('event') if isinstance(doc, dict) else doc!r}; "
                           "valid: 'deploy' or 'gate'")
        if doc["event"] == "deploy":
            deploy = _check_deploy(doc, len(seen) + 1, seen, where)
            seen[deploy.id] = deploy
        else:
            _check_gate(doc, seen, where)
    return [seen[i] for i in sorted(seen)]


def read_log(path: Path) -> list[Deploy]:
    """The stack's deploys; [] when there is no log yet. Raises LogError."""
    path = Path(path)
    if not path.exists():
        return []
    return parse_log(path.read_bytes(), path)


def _append(path: Path, doc: dict, check) -> list[Deploy]:
    """Validate the whole log under its flock, let ``check`` refuse, then append ``doc`` as one line + fsync."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(f".{path.name}.lock")):
        deploys = read_log(path)
        check(deploys)
        line = json.dumps(doc, sort_keys=True, ensure_ascii=False) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return read_log(path)


def store_blob(path: Path, text: str) -> str:
    """Keep ``text`` beside the log under its sha256; returns the hash."""
    digest = sha256(text)
    blob = _blob_dir(path) / digest
    if not blob.is_file() or blob.read_text(encoding="utf-8") != text:
        write_text(blob, text)
    return digest


def load_blob(path: Path, digest: str) -> str:
    """The text stored under ``digest``; LogError when it is missing or no longer has that hash."""
    blob = _blob_dir(path) / digest
    if not blob.is_file():
        raise LogError(f"{blob}: missing; the log {path} names it, so the deploy cannot be restored")
    text = blob.read_text(encoding="utf-8")
    if sha256(text) != digest:
        raise LogError(f"{blob}: its content's sha256 is {sha256(text)}, not its name; it was edited")
    return text


def append_deploy(path: Path, *, time: str, kind: str, commit: str, config_text: str, lock_text: str | None,
                  record_sha256: str, rollback_of: int | None = None) -> Deploy:
    """Log a deploy (its config and lock stored beside the log); returns it with its id."""
    if kind not in KINDS:
        raise ValueError(f"kind is {kind!r}; valid: {list(KINDS)}")
    config_sha = store_blob(path, config_text)
    lock_sha = store_blob(path, lock_text) if lock_text is not None else None
    holder: dict[str, int] = {}

    def number(deploys: list[Deploy]) -> None:
        holder["id"] = len(deploys) + 1
        doc["id"] = holder["id"]

    doc = {"event": "deploy", "id": 0, "time": time, "kind": kind, "rollbackOf": rollback_of, "commit": commit,
           "configSha256": config_sha, "lockSha256": lock_sha, "recordSha256": record_sha256}
    deploys = _append(path, doc, number)
    return deploys[holder["id"] - 1]


def append_gate(path: Path, deploy_id: int, *, time: str, passed: bool, reasons: list[str]) -> Deploy:
    """Log the gate's verdict on ``deploy_id``; returns the deploy with it."""
    def exists(deploys: list[Deploy]) -> None:
        ids = [d.id for d in deploys]
        if deploy_id not in ids:
            raise LogError(f"{path}: no deploy {deploy_id} to gate; valid: {ids}")
        if deploys[deploy_id - 1].verdict != "none":
            raise LogError(f"{path}: deploy {deploy_id} already has a gate verdict")

    doc = {"event": "gate", "deploy": deploy_id, "time": time, "verdict": "passed" if passed else "failed",
           "reasons": list(reasons)}
    return _append(path, doc, exists)[deploy_id - 1]


class NoGoodDeploy(LookupError):
    """No deploy in the log passed its gate: nothing to roll back to."""


def last_good(deploys: list[Deploy]) -> Deploy:
    """The latest deploy whose gate passed. A deploy that failed its gate, or never had one, is never chosen."""
    for deploy in reversed(deploys):
        if deploy.verdict == "passed":
            return deploy
    verdicts = ", ".join(f"{d.id}: {d.verdict}" for d in deploys) or "no deploys"
    raise NoGoodDeploy(f"no deploy passed its health gate ({verdicts}); nothing to roll back to")
