"""Every input key a reference stack passes to a cloud resource is one the provider's Python SDK declares.

The mock runtime does not run provider Check, so a misspelt key inside a nested input dict
(``{"metadata_optons": ...}``) plans offline and fails only at ``pulumi up``. Top-level kwargs are safe
(Python raises TypeError); nested dict keys are not. This walks each recorded input against the SDK's
own input types: the resource's ``<Name>Args`` class, then each property's annotated type. Keys of
``Mapping[str, ...]`` (tags, labels, Helm values) are free-form; CRD instances have only their
``metadata`` checked, their spec is the CRD's business.
"""

from __future__ import annotations

import collections.abc
import copy
import functools
import importlib
import types
import typing
from typing import Any

import pytest
from pulumi import Output
from pulumi._types import input_type_types, is_input_type  # the SDK's own camelCase name -> type table
from pulumi.runtime.rpc import get_resource_module

from newinfra.offline import run_program
from tests.paths import REPO_ROOT

CHECKED_PACKAGES = ("aws", "gcp", "alicloud", "kubernetes")
SEQUENCES = (collections.abc.Sequence, list, tuple)
MAPPINGS = (collections.abc.Mapping, dict)
WRAPPERS = (collections.abc.Awaitable, Output)  # Input[T] = Union[T, Awaitable[T], Output[T]]

Finding = tuple[str, str, str]  # (type token, resource name, dotted key path)


@functools.cache
def args_type(token: str) -> type | None:
    """The ``<Name>Args`` input type of a provider resource token; None for a CRD instance."""
    pkg, mod, _ = token.split(":")
    importlib.import_module(f"pulumi_{pkg}")  # registers the package's resource modules
    # The registry the SDK itself uses to rehydrate resources by type token (mod_info: fqn + classes).
    module = get_resource_module(pkg, mod, "")
    class_name = module.mod_info["classes"].get(token) if module else None
    if class_name is None:
        if pkg == "kubernetes":
            return None
        raise LookupError(f"{token}: the installed pulumi_{pkg} has no resource of this type")
    resource_cls = getattr(importlib.import_module(module.mod_info["fqn"]), class_name)
    # The constructor overload taking `args: <Name>Args` names the class (some are `<Name>InitArgs`).
    for overload in typing.get_overloads(resource_cls.__init__):
        hint = typing.get_type_hints(overload).get("args")
        if hint is not None:
            return object_types(hint)[0]
    raise LookupError(f"{token}: {resource_cls.__qualname__} has no constructor taking an args object")


def alternatives(tp: Any) -> list[Any]:
    """The concrete types a hint allows, with Optional / Input / Output / Awaitable wrappers removed."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(tp) for alt in alternatives(arg)]
    if origin in WRAPPERS or tp is Output:
        args = typing.get_args(tp)
        return alternatives(args[0]) if args else []
    return [] if tp is type(None) else [tp]


def object_types(tp: Any) -> list[type]:
    """The ``@pulumi.input_type`` classes among a hint's alternatives, in order, once each."""
    return list(dict.fromkeys(a for a in alternatives(tp) if isinstance(a, type) and is_input_type(a)))


def check_value(value: Any, tp: Any, path: str) -> list[str]:
    """Dotted paths of the keys in ``value`` that its declared type ``tp`` does not have."""
    alts = alternatives(tp)
    if isinstance(value, dict):
        objects = object_types(tp)
        if objects:  # a union of object types fits if any one of them takes every key
            return min((check_object(value, cls, path) for cls in objects), key=len)
        maps = [a for a in alts if typing.get_origin(a) in MAPPINGS]
        if maps:  # free-form keys; values may still be typed
            value_type = (typing.get_args(maps[0]) or (str, Any))[1]
            return [bad for key, item in value.items() for bad in check_value(item, value_type, f"{path}.{key}")]
        if any(a is Any or a is dict or typing.is_typeddict(a) for a in alts):
            return []  # declared free-form (Helm values, CRD specs, JSON documents)
        return [f"{path}.{key}" for key in sorted(value)]  # an object where the SDK takes none
    if isinstance(value, list):
        seqs = [a for a in alts if typing.get_origin(a) in SEQUENCES]
        if seqs:
            item_type = (typing.get_args(seqs[0]) or (Any,))[0]
            return [bad for i, item in enumerate(value) for bad in check_value(item, item_type, f"{path}[{i}]")]
    return []


def check_object(value: dict[str, Any], cls: type, path: str) -> list[str]:
    """Keys of ``value`` that the input type ``cls`` lacks, and those nested under the keys it has."""
    fields = input_type_types(cls)
    found = []
    for key in sorted(value):
        where = f"{path}.{key}" if path else key
        if key in fields:
            found += check_value(value[key], fields[key], where)
        else:
            found.append(where)
    return found


def unknown_keys(resource: dict[str, Any]) -> list[Finding]:
    token = resource["type"]
    cls = args_type(token)
    if cls is None:  # a CRD instance: only its metadata has a declared shape
        meta_type = input_type_types(importlib.import_module("pulumi_kubernetes.apiextensions").CustomResourceArgs)
        paths = check_value(resource["inputs"].get("metadata", {}), meta_type["metadata"], "metadata")
    else:
        paths = check_object(resource["inputs"], cls, "")
    return [(token, resource["name"], path) for path in paths]


def checked(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The custom resources of the cloud and Kubernetes providers (not the provider resources)."""
    return [r for r in resources if r["custom"] and r["type"].split(":")[0] in CHECKED_PACKAGES]


PROGRAMS = {
    "dev": (REPO_ROOT, "dev"),
    "staging": (REPO_ROOT, "staging"),
    "prod": (REPO_ROOT, "prod"),
    "team-gpu-dev": (REPO_ROOT / "stacks/examples/team-gpu", "dev"),
}


@pytest.fixture(scope="module")
def records():
    return {name: run_program(program, stack) for name, (program, stack) in PROGRAMS.items()}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_nested_input_key_is_declared_by_the_provider_sdk(records, name):
    resources = checked(records[name].resources)
    assert resources, f"{name}: no provider resources recorded"
    findings = sorted(f for r in resources for f in unknown_keys(r))
    assert not findings, f"{name}: input keys the provider SDK does not declare:\n" + "\n".join(
        " ".join(f) for f in findings
    )


def _one(record, token: str) -> dict[str, Any]:
    return copy.deepcopy(record.of_type(token)[0])


def test_a_misspelt_key_is_reported_at_every_depth(records):
    """The walker is only worth its green if it goes red: misspell recorded inputs at every depth."""
    template = _one(records["dev"], "aws:ec2/launchTemplate:LaunchTemplate")
    template["inputs"]["metadataOptons"] = template["inputs"].pop("metadataOptions")
    template["inputs"]["blockDeviceMappings"][0]["ebs"]["kms_key_idd"] = "k"
    sse = _one(records["dev"], "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = sse["inputs"]["rules"][0]
    rule["applyServerSideEncryptionByDefaul"] = rule.pop("applyServerSideEncryptionByDefault")
    pool = _one(records["staging"], "gcp:container/nodePool:NodePool")
    pool["inputs"]["nodeConfig"]["guestAccelerators"][0]["gpuDriverInstallationConfig"]["gpuDriverVersio"] = "LATEST"
    rule_crd = _one(records["dev"], "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    rule_crd["inputs"]["metadata"]["labelz"] = {"team": "x"}
    vpc = _one(records["dev"], "aws:ec2/vpc:Vpc")
    vpc["inputs"]["cidrBlock"] = {"ipv4": "10.0.0.0/16"}  # an object where the SDK takes a string

    found = [f for r in (template, sse, pool, rule_crd, vpc) for f in unknown_keys(r)]

    assert [path for _, _, path in found] == [
        "blockDeviceMappings[0].ebs.kms_key_idd",
        "metadataOptons",
        "rules[0].applyServerSideEncryptionByDefaul",
        "nodeConfig.guestAccelerators[0].gpuDriverInstallationConfig.gpuDriverVersio",
        "metadata.labelz",
        "cidrBlock.ipv4",
    ]
    assert found[0][:2] == ("aws:ec2/launchTemplate:LaunchTemplate", template["name"])


def test_free_form_maps_and_crd_specs_take_any_key(records):
    release = _one(records["dev"], "kubernetes:helm.sh/v3:Release")
    release["inputs"].setdefault("values", {})["anyChartKey"] = {"nested": {"deeper": 1}}
    bucket = _one(records["dev"], "aws:s3/bucket:Bucket")
    bucket["inputs"].setdefault("tags", {})["any-tag"] = "v"
    queue = _one(records["dev"], "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue")
    queue["inputs"]["spec"]["notInAnySchemaWeHave"] = True

    assert [f for r in (release, bucket, queue) for f in unknown_keys(r)] == []
