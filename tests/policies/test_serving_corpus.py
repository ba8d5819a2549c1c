"""The serving rules on model servers other people wrote: Google's GKE AI/ML samples (SERVING_CORPUS.md: source,
commit, licence). Each application's manifests become recorded Kubernetes resources as a Pulumi program applying
them would register them (type token from apiVersion and kind, inputs = metadata and spec), judged in a
production environment. Skipped unless NEWINFRA_SERVING_CORPUS points at a checkout of the listed commit."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.policies.builders import check, flagged, res

CORPUS = os.environ.get("NEWINFRA_SERVING_CORPUS")
pytestmark = pytest.mark.skipif(not CORPUS, reason="NEWINFRA_SERVING_CORPUS is not set: the manifests are not in "
                                                   "this repository (tests/policies/SERVING_CORPUS.md)")

TLS, PDB, SPREAD = "inference-endpoint-tls-allow-list", "serving-disruption-budget", "serving-zone-spread"

# application -> (files, {rule: names it must flag}). Every sample serves from GPUs without a PodDisruptionBudget
# and from one replica in no zone spread (a sample, not a production service): the budget and spread rules flag
# each model server. Only Triton's Service is a public LoadBalancer (no TLS, no loadBalancerSourceRanges).
APPS: dict[str, tuple[tuple[str, ...], dict[str, set[str]]]] = {
    "gemma3-vllm": (("ai-ml/llm-serving-gemma/vllm/vllm-3-27b-it.yaml",),
                    {PDB: {"vllm-gemma-deployment"}, SPREAD: {"vllm-gemma-deployment"}, TLS: set()}),
    "gemma2-vllm": (("ai-ml/llm-serving-gemma/vllm/vllm-2-9b-it.yaml",),
                    {PDB: {"vllm-gemma-deployment"}, SPREAD: {"vllm-gemma-deployment"}, TLS: set()}),
    "llama4-vllm": (("ai-ml/llm-serving-llama/vllm/vllm-llama4-scout-17b-16e.yaml",),
                    {PDB: {"llama-deployment"}, SPREAD: {"llama-deployment"}, TLS: set()}),
    "llama3-tgi": (("ai-ml/llm-multiple-gpus/llama3-70b/text-generation-inference.yaml",),
                   {PDB: {"llm"}, SPREAD: {"llm"}, TLS: set()}),
    "llama3-405b-lws": (("ai-ml/llm-multihost-gpus/vllm-llama3-405b-A3.yaml",),
                        {PDB: {"vllm"}, SPREAD: {"vllm"}, TLS: set()}),
    "tensorrt-lws": (("ai-ml/llm-multihost-gpus-tensorrt-llm/lws.yaml",),
                     {PDB: {"tensorrt"}, SPREAD: {"tensorrt"}, TLS: set()}),
    "triton-public-lb": (("ai-ml/gke-online-serving-single-gpu/src/gke-config/deployment-triton.yaml",
                          "ai-ml/gke-online-serving-single-gpu/src/gke-config/service-triton.yaml"),
                         {PDB: {"triton-deployment"}, SPREAD: {"triton-deployment"}, TLS: {"triton-service"}}),
}


def token(manifest: dict[str, Any]) -> str:
    """The pulumi-kubernetes type token of a manifest: kubernetes:<group>/<version>:<Kind> (core group: core)."""
    group, _, version = manifest["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{manifest['kind']}"


def recorded(files: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for f in files:
        # the samples' placeholders ({{HF_TOKEN}}) are filled in before `kubectl apply`, as their guides say
        text = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"\1", (Path(CORPUS or ".") / f).read_text())
        for doc in yaml.safe_load_all(text):
            if not doc or doc.get("kind") == "Secret":
                continue
            inputs = {k: doc[k] for k in ("metadata", "spec") if k in doc}
            out.append(res(token(doc), doc["metadata"]["name"], inputs))
    return out


@pytest.mark.parametrize("app", sorted(APPS))
def test_the_serving_rules_on_public_samples(app: str) -> None:
    files, expected = APPS[app]
    resources = recorded(files)
    assert resources, f"{app}: no manifest read from {files}"
    ev = check(resources, packs=("data_security",), environment="prod")
    found = {rule: flagged(ev, rule) for rule in expected}
    assert found == expected, (app, {v.policy: v.message for v in ev.violations if v.policy in expected})
