"""Kubeconfigs authenticate through the cloud's exec plugin and carry no credential."""

from __future__ import annotations

import json

import pytest
from newinfra.components.planning.kubeconfigs import exec_kubeconfig


def test_gke_kubeconfig():
    config = json.loads(exec_kubeconfig("gcp", "gke", "10.0.0.2", "Q0E="))
    assert config["clusters"][0]["cluster"] == {"server": "https://10.0.0.2", "certificate-authority-data": "Q0E="}
    user = config["users"][0]["user"]
    assert set(user) == {"exec"}  # no token, no client key
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin" and user["exec"]["provideClusterInfo"] is True


def test_ack_kubeconfig_names_the_cluster():
    text = exec_kubeconfig("alicloud", "ack", "https://192.168.0.2:6443", "Q0E=", ("--cluster-id", "c1"))
    exec_ = json.loads(text)["users"][0]["user"]["exec"]
    assert exec_["command"] == "ack-ram-tool"
    assert exec_["args"] == ["credential-plugin", "get-credential", "--api-version", "v1beta1", "--cluster-id", "c1"]
    assert text == exec_kubeconfig("alicloud", "ack", "https://192.168.0.2:6443", "Q0E=", ("--cluster-id", "c1"))


def test_unknown_cloud():
    with pytest.raises(ValueError, match=r"cloud: 'azure' has no exec credential plugin here; valid: \['alicloud', 'gcp'\]"):
        exec_kubeconfig("azure", "x", "s", "c")
