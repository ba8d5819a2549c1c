"""New-style transforms (``ResourceOptions(transforms=...)``, ``pulumi.runtime.register_resource_transform``)
run by the offline monitor as the engine runs them, before the registration is recorded.

Old-style ``transformations`` need nothing here: the Python SDK applies them in the program, before it
registers. New-style transforms are callbacks: the SDK hands the monitor a token per transform and the
engine calls the program back (gRPC ``Callbacks.Invoke``) with a ``TransformRequest``. The SDK's mock monitor
resolves the tokens but never calls them, so a transform that turns a bucket's public-access block off would
pass offline. :class:`Transforms` keeps what the engine keeps (each resource's own transforms, for its
children; the stack's transforms) and calls the same callback servicer the engine would, in the engine's
order: the resource's own transforms, then its parent's, up to the root, then the stack's.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pulumi.runtime.proto import resource_pb2


class TransformError(RuntimeError):
    """A transform raised; the engine fails the registration, so does the offline run."""


class Transforms:
    def __init__(self) -> None:
        self._own: dict[str, list[str]] = {}  # urn -> tokens of its own transforms (inherited by children)
        self._parents: dict[str, str] = {}
        self._stack: list[str] = []
        self._lock = threading.Lock()

    def register_stack(self, token: str) -> None:
        with self._lock:
            self._stack.append(token)

    def chain(self, urn: str, parent: str, own: list[str]) -> list[str]:
        """Tokens to apply to ``urn``, in the engine's order; remembers ``urn``'s for its children."""
        with self._lock:
            self._own[urn] = list(own)
            self._parents[urn] = parent
            tokens = list(own)
            seen = {urn}
            while parent and parent not in seen:
                seen.add(parent)
                tokens.extend(self._own.get(parent, ()))
                parent = self._parents.get(parent, "")
            return tokens + list(self._stack)

    def apply(self, request: Any, urn: str, parent: str) -> tuple[Any, str]:
        """(properties Struct, provider reference) of ``request`` after every transform that applies."""
        # An SDK older than transforms (pulumi < 3.1xx: no `transforms` field, no callback server) has none.
        tokens = self.chain(urn, parent, [t.token for t in getattr(request, "transforms", ())])
        properties, provider = request.object, request.provider
        if not tokens:
            return properties, provider
        for token in tokens:
            callback, loop = _callback(token)
            message = resource_pb2.TransformRequest(
                type=request.type, name=request.name, custom=request.custom, parent=request.parent,
                properties=properties, options=resource_pb2.TransformResourceOptions(provider=provider))
            future = asyncio.run_coroutine_threadsafe(callback(message.SerializeToString()), loop)
            try:
                response = future.result()
            except Exception as e:  # noqa: BLE001 (the program's own code: report it, do not mask it)
                raise TransformError(f"a transform on {urn} raised {type(e).__name__}: {e}") from e
            if response.HasField("properties"):
                properties = response.properties
            if response.HasField("options") and response.options.provider:
                provider = response.options.provider
        return properties, provider


def _callback(token: str):
    from pulumi.runtime._callbacks import _CallbackServicer  # only SDKs with transforms have it

    for servicer in list(_CallbackServicer._servicers):
        cb = servicer._callbacks.get(token)
        if cb is not None:
            return cb, servicer._loop
    raise TransformError(f"transform callback {token} is not registered with the program's callback server")
