"""The packs as `pulumi preview --policy-pack` runs them: the pack's __main__.py in its own process, serving
the analyzer over gRPC, spoken to the way the CLI does (GetAnalyzerInfo, Configure, Analyze, AnalyzeStack)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _struct(values: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(values)
    return s


@pytest.fixture
def serve():
    started: list[subprocess.Popen] = []

    def start(directory: str, stack_env: dict[str, str]) -> analyzer_pb2_grpc.AnalyzerStub:
        env = {**os.environ, **stack_env}
        proc = subprocess.Popen([sys.executable, str(ROOT / "policies" / directory / "__main__.py")],
                                cwd=ROOT / "policies" / directory, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append(proc)
        port = proc.stdout.readline().strip()  # the CLI reads the port from the first line, as here
        assert port.isdigit(), proc.stderr.read()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        return analyzer_pb2_grpc.AnalyzerStub(channel)

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def test_data_security_pack_serves_the_analyzer_protocol(serve) -> None:
    stub = serve("data_security", {"PULUMI_STACK": "prod"})
    info = stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "newinfra-data-security"
    assert info.policies[0].enforcementLevel == proto.MANDATORY
    stub.Configure(proto.ConfigureAnalyzerRequest())
    sg = proto.AnalyzeRequest(
        type="aws:ec2/securityGroup:SecurityGroup", name="ssh", urn="urn:pulumi:prod::p::aws:ec2/securityGroup:SecurityGroup::ssh",
        properties=_struct({"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]}))
    found = stub.Analyze(sg).diagnostics
    assert [(d.policyName, d.enforcementLevel) for d in found] == [("no-internet-ingress", proto.MANDATORY)]


def test_budget_pack_reads_the_stack_budget_from_the_cli_config(serve) -> None:
    config = {"newinfra:environment": "prod", "newinfra:monthlyBudgetUsd": "1000"}
    stub = serve("budget", {"PULUMI_STACK": "prod", "PULUMI_CONFIG": json.dumps(config)})
    stub.Configure(proto.ConfigureAnalyzerRequest())
    provider = proto.AnalyzerProviderResource(type="pulumi:providers:aws", name="aws",
                                              urn="urn:pulumi:prod::p::pulumi:providers:aws::aws",
                                              properties=_struct({"region": "us-east-1"}))
    group = proto.AnalyzerResource(
        type="aws:eks/nodeGroup:NodeGroup", name="gpu", urn="urn:pulumi:prod::p::aws:eks/nodeGroup:NodeGroup::gpu",
        properties=_struct({"instanceTypes": ["p5.48xlarge"], "capacityType": "ON_DEMAND",
                            "scalingConfig": {"minSize": 1, "desiredSize": 1, "maxSize": 2}}), provider=provider)
    found = stub.AnalyzeStack(proto.AnalyzeStackRequest(resources=[group])).diagnostics
    budget = [d for d in found if d.policyName == "monthly-budget"]
    assert len(budget) == 1 and budget[0].enforcementLevel == proto.MANDATORY
    assert "exceeds the budget $1,000.00" in budget[0].message
