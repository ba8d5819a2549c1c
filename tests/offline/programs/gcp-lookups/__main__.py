"""A team's GCP VM: the project, the region's zones, a public image family and the default network."""

import pulumi
import pulumi_gcp as gcp

project = gcp.organizations.get_project()
client = gcp.organizations.get_client_config()
zones = gcp.compute.get_zones()
image = gcp.compute.get_image(family="debian-12", project="debian-cloud")
network = gcp.compute.get_network(name="default")

gcp.compute.Instance("vm", machine_type="e2-small", zone=zones.names[0],
                     boot_disk={"initialize_params": {"image": image.self_link}},
                     network_interfaces=[{"network": network.self_link}])
pulumi.export("project", client.project)
pulumi.export("zone", client.zone)
