"""Kubeconfigs whose users authenticate through the cloud's exec credential plugin: no long-lived
client certificate or token is ever written into a stack output."""

from __future__ import annotations

import json

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"

# cloud -> (command, args before the cluster-specific ones, install hint)
EXEC_PLUGINS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "gcp": ("gke-gcloud-auth-plugin", (), "gcloud components install gke-gcloud-auth-plugin"),
    "alicloud": ("ack-ram-tool", ("credential-plugin", "get-credential", "--api-version", "v1beta1"),
                 "https://github.com/AliyunContainerService/ack-ram-tool/releases"),
}


def exec_kubeconfig(cloud: str, name: str, server: str, ca_data: str, cluster_args: tuple[str, ...] = ()) -> str:
    """A kubeconfig (JSON, which is YAML) for one cluster; sorted keys so records stay byte-identical."""
    if cloud not in EXEC_PLUGINS:
        raise ValueError(f"cloud: {cloud!r} has no exec credential plugin here; valid: {sorted(EXEC_PLUGINS)}")
    command, args, hint = EXEC_PLUGINS[cloud]
    if not server.startswith("https://"):
        server = f"https://{server}"
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"exec": {
            "apiVersion": EXEC_API_VERSION, "command": command, "args": [*args, *cluster_args],
            "installHint": f"install {command}: {hint}", "provideClusterInfo": cloud == "gcp",
            "interactiveMode": "Never",
        }}}],
    }, sort_keys=True)
