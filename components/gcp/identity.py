"""Who may use a customer key and what nodes run as: Google service agents and dedicated node accounts."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
from newinfra.components.physical import physical

KEY_USER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# Google-managed service agents, by what they encrypt: service-<project number>@<domain>.
SERVICE_AGENT_DOMAINS: dict[str, str] = {
    "compute": "compute-system.iam.gserviceaccount.com",  # persistent disks (GKE boot disks, TPU data disks)
    "gke": "container-engine-robot.iam.gserviceaccount.com",  # Kubernetes secrets (databaseEncryption)
    "gcs": "gs-project-accounts.iam.gserviceaccount.com",  # bucket objects
    "filestore": "cloud-filer.iam.gserviceaccount.com",  # Filestore shares
    "pubsub": "gcp-sa-pubsub.iam.gserviceaccount.com",  # topic messages (budget alerts)
}
# What GPU/TPU nodes need and no more: write logs and metrics, read images. Not the compute default
# account, which has Editor on the project.
NODE_ROLES = (
    "roles/artifactregistry.reader",
    "roles/autoscaling.metricsWriter",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
)


def grant_key_to_agents(name: str, key_id: pulumi.Input[str], project_number: pulumi.Input[str],
                        agents: list[str], parent: pulumi.Resource) -> list[gcp.kms.CryptoKeyIAMMember]:
    """Let Google's service agents use the key; resources that encrypt with it must depend on these."""
    return [
        gcp.kms.CryptoKeyIAMMember(
            f"{name}-{agent}-key-user",
            crypto_key_id=key_id,
            role=KEY_USER_ROLE,
            member=pulumi.Output.concat("serviceAccount:service-", project_number, "@",
                                        SERVICE_AGENT_DOMAINS[agent]),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for agent in agents
    ]


def node_service_account(name: str, project_id: pulumi.Input[str], parent: pulumi.Resource
                         ) -> tuple[gcp.serviceaccount.Account, list[gcp.projects.IAMMember]]:
    child = pulumi.ResourceOptions(parent=parent)
    account = gcp.serviceaccount.Account(
        f"{name}-nodes", account_id=physical("gcp:serviceaccount:account-id", f"{name}-nodes"),
        project=project_id,
        display_name=f"{name} GPU/TPU nodes (newinfra)", opts=child)
    members = [
        gcp.projects.IAMMember(
            f"{name}-nodes-{role.split('/')[1].replace('.', '-').lower()}",
            project=project_id, role=role,
            member=pulumi.Output.concat("serviceAccount:", account.email), opts=child)
        for role in NODE_ROLES
    ]
    return account, members
