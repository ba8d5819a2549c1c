"""Google Cloud components (newinfra:gcp:…): network, storage, GKE GPU/TPU clusters, TPU VM slices.

Modules are imported one by one (``from newinfra.components.gcp.cluster import GpuCluster``) so a stack pays for
pulumi_gcp only when it uses Google Cloud.
"""
