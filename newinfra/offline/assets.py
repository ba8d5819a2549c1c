"""Assets and archives in a resource's inputs, recorded as the engine sees them: kind, where, content hash.

The engine hashes every asset and archive during a preview (that hash is what decides whether a Lambda's
code changed), so the record keeps the same: a FileAsset's path and the sha256 of its bytes, a
StringAsset's sha256 (never its text: it may be a script with a token in it), a remote asset's URI (not
fetched: the run is offline), and an archive's members, each described the same way. Paths are relative to
the program's working directory, as the engine resolves them.
"""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

SIGS = {rpc._special_asset_sig, rpc._special_archive_sig}  # noqa: SLF001


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file(path: str) -> dict[str, Any]:
    p = Path(path)
    if p.is_file():
        return {"path": path, "sha256": _sha256(p.read_bytes())}
    # `pulumi preview` stops here ("failed to open asset file"); the record says so instead of guessing.
    return {"path": path, "sha256": None, "missing": True}


def _file_archive(path: str) -> dict[str, Any]:
    p = Path(path)
    if p.is_dir():
        members = {f.relative_to(p).as_posix(): {"kind": "FileAsset", "sha256": _sha256(f.read_bytes())}
                   for f in sorted(p.rglob("*")) if f.is_file()}
        return {"path": path, "members": members, "sha256": _members_hash(members)}
    if not p.is_file():
        return {"path": path, "sha256": None, "missing": True}
    names: list[str] = []
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as z:
            names = sorted(i.filename for i in z.infolist() if not i.is_dir())
    elif tarfile.is_tarfile(p):
        with tarfile.open(p) as t:
            names = sorted(m.name for m in t.getmembers() if m.isfile())
    return {"path": path, "sha256": _sha256(p.read_bytes()), "members": {n: {} for n in names}}


def _members_hash(members: dict[str, Any]) -> str:
    return _sha256("\n".join(f"{k}\x00{v.get('sha256')}" for k, v in sorted(members.items())).encode())


def describe(value: pulumi.Asset | pulumi.Archive) -> dict[str, Any]:
    """The record's form of one asset or archive (JSON-ready, no contents)."""
    kind = type(value).__name__
    if isinstance(value, pulumi.FileAsset):
        return {"kind": kind, **_file(str(value.path))}
    if isinstance(value, pulumi.StringAsset):
        return {"kind": kind, "sha256": _sha256(value.text.encode())}
    if isinstance(value, pulumi.RemoteAsset | pulumi.RemoteArchive):
        return {"kind": kind, "uri": value.uri}
    if isinstance(value, pulumi.FileArchive):
        return {"kind": kind, **_file_archive(str(value.path))}
    if isinstance(value, pulumi.AssetArchive):
        members = {name: describe(member) for name, member in sorted(value.assets.items())}
        return {"kind": kind, "members": members, "sha256": _members_hash(members)}
    return {"kind": kind}


def describe_wire(value: dict[str, Any]) -> dict[str, Any]:
    """An asset or archive still in its wire form (a signature and path / text / uri / assets)."""
    is_asset = value.get(rpc._special_sig_key) == rpc._special_asset_sig  # noqa: SLF001
    if "path" in value:
        obj: Any = pulumi.FileAsset(value["path"]) if is_asset else pulumi.FileArchive(value["path"])
    elif "text" in value:
        obj = pulumi.StringAsset(value["text"])
    elif "uri" in value:
        obj = pulumi.RemoteAsset(value["uri"]) if is_asset else pulumi.RemoteArchive(value["uri"])
    else:
        return {"kind": "AssetArchive", "members": {k: describe_wire(v) for k, v in
                                                    sorted((value.get("assets") or {}).items())}}
    return describe(obj)
