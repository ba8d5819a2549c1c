"""newinfra:k8s:* — the GPU software layer installed on every cluster, whatever its cloud."""
