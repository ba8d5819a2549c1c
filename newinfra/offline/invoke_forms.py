"""How an invoke no emulator answers reaches the program: unknown, as `pulumi preview` shows a value not yet known.

A provider SDK has two forms of each look-up:

- the output form (``aws.ec2.get_ami_output(...)``) returns an Output: when nobody knows the answer the monitor
  replies ``unknown`` and the whole result is an unknown Output, exactly what the engine gives a program whose
  invoke it cannot serve (``ResourceInvokeResponse.unknown``);
- the plain form (``aws.ec2.get_ami(...)``) returns the SDK's result class, which type-checks every field, so it
  cannot hold an unknown. Each string field holds the wire's unknown marker instead
  (``pulumi.runtime.rpc.UNKNOWN``, the string ``"04da6b54-80e4-46f7-96ec-b56ff0331ba9"``): a plain
  ``get_ami(...).id`` is that string, and a resource input built from it is recorded as unknown, as preview
  would show it. Fields of other types (lists, numbers, booleans, objects) are None.

The engine lists every invoke answered this way in one warning at the end of the run.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing
from collections.abc import Iterator
from typing import Any

import pulumi
from pulumi.runtime import rpc

# Set around one invoke call: which form the program used, and whether the answer turned out unknown. The
# SDK copies the context into the task and the executor thread that reach the monitor, so the monitor sees it.
FORM: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("newinfra_invoke_form", default=None)


def is_output_form() -> bool:
    form = FORM.get()
    return bool(form and form["output"])


def mark_unknown() -> None:
    form = FORM.get()
    if form is not None:
        form["unknown"] = True


def _is_str(hint: Any) -> bool:
    if hint is str:
        return True
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return typing.get_origin(hint) is typing.Union and args == [str]


def placeholder(typ: type) -> Any:
    """The plain form's result when unknown: the unknown marker in each string field, None elsewhere."""
    fields: dict[str, Any] = {}
    for name, member in vars(typ).items():
        if isinstance(member, property) and member.fget is not None:
            try:
                hint = typing.get_type_hints(member.fget).get("return")
            except Exception:  # noqa: BLE001 (a forward reference the SDK module cannot resolve: not a str)
                hint = None
            fields[name] = rpc.UNKNOWN if _is_str(hint) else None
    return typ(**fields)


@contextlib.contextmanager
def invoke_forms() -> Iterator[None]:
    """Tell the monitor which form each invoke has, and give plain forms their placeholder when unknown."""
    # Arguments pass through as given: older SDKs (a program's own virtualenv may pin one) take fewer of them,
    # and those before 3.1xx have no invoke_output at all.
    plain = pulumi.runtime.invoke
    output = getattr(pulumi.runtime, "invoke_output", None)

    def invoke(*args: Any, **kwargs: Any) -> Any:
        form = {"output": False, "unknown": False}
        token = FORM.set(form)
        try:
            result = plain(*args, **kwargs)  # unknown: an empty result, every field None
        finally:
            FORM.reset(token)
        typ = kwargs.get("typ", args[3] if len(args) > 3 else None)
        if form["unknown"] and typ is not None:
            result.value = placeholder(typ)
        return result

    pulumi.runtime.invoke = invoke
    if output is not None:
        wrapped = output

        def invoke_output(*args: Any, **kwargs: Any) -> Any:
            token = FORM.set({"output": True, "unknown": False})
            try:
                return wrapped(*args, **kwargs)
            finally:
                FORM.reset(token)

        pulumi.runtime.invoke_output = invoke_output
    try:
        yield
    finally:
        pulumi.runtime.invoke = plain
        if output is not None:
            pulumi.runtime.invoke_output = output

