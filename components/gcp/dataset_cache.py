"""newinfra:gcp:DatasetCache — a dataset's Cloud Storage bytes next to its GPUs through the Cloud Storage FUSE
CSI driver (GpuCluster enables the GKE add-on ``gcsFuseCsiDriverConfig``): a read-only PersistentVolume + claim
whose mount options give each node a bounded file cache that also serves ranged reads, and read access for the
workloads' Kubernetes service account through Workload Identity.

The bucket stays encrypted with the dataset's Cloud KMS key (Cloud Storage decrypts for the reader). The file
cache lives in the FUSE sidecar's volume on the node; local SSD is not used for it because Compute Engine local
SSDs take no customer-managed key (their encryption modes are Google-managed or ephemeral keys only).
"""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.k8s.dataset_volume import dataset_claim
from newinfra.components.planning.dataset_cache import gcsfuse_options, plan_cache_args
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError

GCSFUSE_DRIVER = "gcsfuse.csi.storage.gke.io"


class DatasetCacheArgs(TypedDict):
    dataset: str
    size_gb: float
    classification: str
    region: str  # where the cache sits: the GPUs' region
    bucket_region: NotRequired[str]  # where the dataset's bucket is (default: region)
    residency: dict[str, list[str]]
    bucket_name: pulumi.Input[str]
    kubeconfig: pulumi.Input[str]  # the GKE cluster's: the claim is applied through it
    namespace: NotRequired[str]  # of the claim and of the readers' service account
    service_account: NotRequired[str]  # Kubernetes service account of the readers (default: default)
    cache: NotRequired[dict[str, Any]]  # kind, local_cache_gb, metadata_ttl_s


class DatasetCache(pulumi.ComponentResource):
    TYPE = python_token("GcpDatasetCache")
    kind: str
    claim_name: pulumi.Output[str]

    def __init__(self, name: str, args: DatasetCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plan = plan_cache_args("gcp", args)
        if args.get("kubeconfig") is None:
            raise ComponentInputError("kubeconfig", "required: the GKE cluster's kubeconfig")
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        self.kind = plan["kind"]
        namespace = str(args.get("namespace") or "default")
        account = str(args.get("service_account") or "default")
        project = gcp.organizations.get_project_output(opts=pulumi.InvokeOutputOptions(parent=self))
        # Workload Identity Federation for GKE: the readers' Kubernetes service account, by principal.
        member = pulumi.Output.all(project.number, project.project_id).apply(
            lambda p: f"principal://iam.googleapis.com/projects/{p[0]}/locations/global/workloadIdentityPools/"
                      f"{p[1]}.svc.id.goog/subject/ns/{namespace}/sa/{account}")
        reader = gcp.storage.BucketIAMMember(f"{name}-reader", bucket=args["bucket_name"],
                                             role="roles/storage.objectViewer", member=member,
                                             opts=pulumi.ResourceOptions(parent=self))
        bucket = pulumi.Output.from_input(args["bucket_name"])
        self.claim_name = dataset_claim(self, name, plan, bucket, args, GCSFUSE_DRIVER, gcsfuse_options(plan),
                                 {"gcsfuseMetadataPrefetchOnMount": "true"}, reader)
        self.register_outputs({"kind": self.kind, "claimName": self.claim_name})
