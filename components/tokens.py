"""The type tokens of the hosted components: one table for both forms, and the alias between them.

A component registers under one of two tokens: its Python token (``newinfra:aws:Network``) when a Python
program imports the class, its provider token (``newinfra:index:AwsNetwork``) when the component provider
(``components/__main__.py``) hosts it for other languages; Pulumi puts every hosted component in the one
``index`` module under its class name. Each form declares the other as an alias, so a stack that moves
between them keeps its resources instead of replacing every one.
"""

from __future__ import annotations

import copy

import pulumi

PROVIDER_NAME = "newinfra"

# provider class name (components/__main__.py) -> the Python class's token
PYTHON_TOKENS: dict[str, str] = {
    "AlicloudGpuCluster": "newinfra:alicloud:GpuCluster",
    "AlicloudGpuVmPool": "newinfra:alicloud:GpuVmPool",
    "AlicloudNetwork": "newinfra:alicloud:Network",
    "AlicloudStorage": "newinfra:alicloud:Storage",
    "AwsBudgetGuard": "newinfra:aws:BudgetGuard",
    "AwsDatasetCache": "newinfra:aws:DatasetCache",
    "AwsGpuCluster": "newinfra:aws:GpuCluster",
    "AwsGpuVmPool": "newinfra:aws:GpuVmPool",
    "AwsInterruptionQueue": "newinfra:aws:InterruptionQueue",
    "AwsNetwork": "newinfra:aws:Network",
    "AwsStorage": "newinfra:aws:Storage",
    "GcpBudgetGuard": "newinfra:gcp:BudgetGuard",
    "GcpDatasetCache": "newinfra:gcp:DatasetCache",
    "GcpGpuCluster": "newinfra:gcp:GpuCluster",
    "GcpGpuVmPool": "newinfra:gcp:GpuVmPool",
    "GcpNetwork": "newinfra:gcp:Network",
    "GcpStorage": "newinfra:gcp:Storage",
    "GcpTpuSlice": "newinfra:gcp:TpuSlice",
    "GpuPlatform": "newinfra:k8s:GpuPlatform",
    "InferenceService": "newinfra:k8s:InferenceService",
}


def python_token(hosted_name: str) -> str:
    return PYTHON_TOKENS[hosted_name]


def provider_token(hosted_name: str) -> str:
    """The token the component provider registers: ``<provider>:index:<class name>``, as Pulumi requires."""
    if hosted_name not in PYTHON_TOKENS:
        raise KeyError(f"{hosted_name!r} is not a hosted component; hosted: {sorted(PYTHON_TOKENS)}")
    return f"{PROVIDER_NAME}:index:{hosted_name}"


# Either form's token -> the other's.
OTHER_FORM: dict[str, str] = {
    **{python: provider_token(name) for name, python in PYTHON_TOKENS.items()},
    **{provider_token(name): python for name, python in PYTHON_TOKENS.items()},
}


def with_other_form(type_: str, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """A copy of ``opts`` with an alias to the other form's type added to the caller's own aliases.

    A shallow copy, not ``ResourceOptions.merge``: merge rewrites providers and depends_on into other shapes,
    and the caller's options should reach the engine as given.
    """
    opts = copy.copy(opts) if opts is not None else pulumi.ResourceOptions()
    opts.aliases = [*(opts.aliases or []), pulumi.Alias(type_=OTHER_FORM[type_])]
    return opts
