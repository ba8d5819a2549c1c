"""A Deployment with no metadata.name, as most public Kubernetes programs write it; the program reads the
API server's answer (the auto-name, the labels) back."""

import pulumi
import pulumi_kubernetes as k8s

labels = {"app": "web"}
deployment = k8s.apps.v1.Deployment(
    "web",
    spec={"selector": {"match_labels": labels}, "replicas": 1,
          "template": {"metadata": {"labels": labels},
                       "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
    metadata={"labels": labels})
service = k8s.core.v1.Service("web", metadata={"labels": deployment.metadata.apply(lambda m: m.labels)},
                              spec={"selector": labels, "ports": [{"port": 80}]})
ns = k8s.core.v1.Namespace("team")
pulumi.export("name", deployment.metadata.apply(lambda m: m.name))
pulumi.export("namespace", deployment.metadata.apply(lambda m: m.namespace))
pulumi.export("namespaceName", ns.metadata.apply(lambda m: m.name))
pulumi.export("ready", deployment.status.apply(lambda s: s.ready_replicas))
