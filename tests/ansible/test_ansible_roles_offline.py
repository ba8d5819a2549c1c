"""What cannot be installed here (NVIDIA's repositories, Amazon Linux 2023, RHEL 9, containerd 2.x, DCGM, EFA):
the roles' templates and package lists rendered with Ansible's own templating, and every bad input failing early
with a message naming the variable (ansible-playbook in check mode against recorded platform facts).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_targets import ANSIBLE_DIR, ansible_playbook

ROLES = ANSIBLE_DIR / "roles"
PLATFORMS = {
    "Ubuntu-24": {"distribution": "Ubuntu", "distribution_major_version": "24", "os_family": "Debian"},
    "Debian-12": {"distribution": "Debian", "distribution_major_version": "12", "os_family": "Debian"},
    "RedHat-9": {"distribution": "RedHat", "distribution_major_version": "9", "os_family": "RedHat"},
    "Amazon-2023": {"distribution": "Amazon", "distribution_major_version": "2023", "os_family": "RedHat"},
    "Gentoo-2": {"distribution": "Gentoo", "distribution_major_version": "2", "os_family": "Gentoo"},
}


def _trust(value):
    """Role files are trusted templates, as when Ansible loads them from the role."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trust(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trust(v) for v in value]
    return value


def templar(role: str, platform: str, **overrides) -> Templar:
    loader = DataLoader()
    variables: dict = {}
    for layer in ("defaults", "vars"):
        variables.update(_trust(loader.load_from_file(str(ROLES / role / layer / "main.yml"))))
    facts = {**PLATFORMS[platform], "is_chroot": False, "kernel": "6.1.0-28-cloud-amd64"}
    variables.update({"ansible_facts": facts, "ansible_managed": "Ansible managed", **_trust(overrides)})
    return Templar(loader=loader, variables=variables)


def render(role: str, template: str, platform: str, **overrides) -> str:
    text = (ROLES / role / "templates" / template).read_text()
    return templar(role, platform, **overrides).template(trust_as_template(text))


def value(role: str, expression: str, platform: str, **overrides):
    return templar(role, platform, **overrides).template(trust_as_template("{{ " + expression + " }}"))


def deb822(text: str) -> list[dict]:
    stanzas = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith("#"))
        if fields:
            stanzas.append(fields)
    return stanzas


# ---- templates of paths not installable here ------------------------------------------------------------


@pytest.mark.parametrize(("version", "plugin"), [(2, "io.containerd.grpc.v1.cri"), (3, "io.containerd.cri.v1.runtime")])
def test_containerd_config_for_containerd_1_and_2(version: int, plugin: str) -> None:
    config = tomllib.loads(render("container_runtime", "config.toml.j2", "Amazon-2023",
                                  container_runtime_config_version=version))
    cri = config["plugins"][plugin]
    assert config["version"] == version and cri["enable_cdi"] is True
    assert cri["cdi_spec_dirs"] == ["/etc/cdi", "/var/run/cdi"]
    runtimes = cri["containerd"]["runtimes"]
    assert cri["containerd"]["default_runtime_name"] == "nvidia"
    assert runtimes["nvidia"]["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    assert runtimes["runc"]["options"]["SystemdCgroup"] is True


def test_containerd_without_nvidia_runtime_defaults_to_runc() -> None:
    config = tomllib.loads(render("container_runtime", "config.toml.j2", "RedHat-9", container_runtime_config_version=2,
                                  container_runtime_nvidia_runtime=False))
    containerd = config["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    assert containerd["default_runtime_name"] == "runc" and "nvidia" not in containerd["runtimes"]


def test_nvidia_repository_sources() -> None:
    [toolkit] = deb822(render("container_runtime", "nvidia-container-toolkit.sources.j2", "Ubuntu-24"))
    assert toolkit == {"Types": "deb", "URIs": "https://nvidia.github.io/libnvidia-container/stable/deb/amd64",
                       "Suites": "/", "Signed-By": "/etc/apt/keyrings/newinfra-nvidia-container-toolkit.asc"}
    [dcgm] = deb822(render("dcgm", "dcgm.sources.j2", "Debian-12"))
    assert dcgm["URIs"] == "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64"
    assert dcgm["Suites"] == "/"
    [cuda] = deb822(render("cuda_toolkit", "cuda.sources.j2", "Ubuntu-24", cuda_toolkit_source="nvidia"))
    assert cuda["URIs"].endswith("/repos/ubuntu2404/x86_64") and cuda["Suites"] == "/"
    assert cuda["Signed-By"] == "/etc/apt/keyrings/newinfra-nvidia-cuda.asc"
    [fm] = deb822(render("fabric_manager", "fabric-manager.sources.j2", "Debian-12",
                         fabric_manager_repo_url="https://mirror.internal/cuda/debian12/x86_64"))
    assert fm["URIs"] == "https://mirror.internal/cuda/debian12/x86_64" and fm["Suites"] == "/"


def test_driver_sources_follow_the_mirror_variables() -> None:
    main, security = deb822(render("nvidia_driver", "nvidia-driver.sources.j2", "Debian-12",
                                   nvidia_driver_repo_url="http://mirror.internal/debian"))
    assert main["URIs"] == "http://mirror.internal/debian" and main["Suites"] == "bookworm bookworm-updates"
    assert main["Components"] == "contrib non-free non-free-firmware"
    assert security["URIs"] == "http://deb.debian.org/debian-security" and security["Suites"] == "bookworm-security"


@pytest.mark.parametrize(("platform", "branch", "modules", "userland", "kernel_packages"), [
    ("Amazon-2023", "580", "dkms", ["nvidia-open-580.*", "nvidia-persistenced-580.*"],
     ["kernel-devel-6.1.0-28-cloud-amd64", "kernel-modules-extra-6.1.0-28-cloud-amd64"]),
    ("RedHat-9", "570", "dkms", ["@nvidia-driver:570-open"],
     ["kernel-devel-6.1.0-28-cloud-amd64", "kernel-headers-6.1.0-28-cloud-amd64"]),
    ("Ubuntu-24", "580", "dkms", ["nvidia-headless-no-dkms-580-server-open", "nvidia-utils-580-server"],
     ["nvidia-dkms-580-server-open", "linux-headers-6.1.0-28-cloud-amd64"]),
])
def test_driver_packages_derive_from_the_one_branch(platform, branch, modules, userland, kernel_packages) -> None:
    family = PLATFORMS[platform]["distribution"]
    overrides = {"nvidia_driver_branch": branch, "nvidia_driver_kernel": "6.1.0-28-cloud-amd64"}
    assert value("nvidia_driver", f"__nvidia_driver_packages['{family}'].userland", platform, **overrides) == userland
    assert value("nvidia_driver", f"__nvidia_driver_packages['{family}']['{modules}']", platform,
                 **overrides) == kernel_packages


def test_dkms_signing_and_nvidia_cuda_packages() -> None:
    conf = render("nvidia_driver", "dkms-signing.conf.j2", "Ubuntu-24", nvidia_driver_mok_key="/var/lib/shim/MOK.priv",
                  nvidia_driver_mok_certificate="/var/lib/shim/MOK.der")
    assert 'mok_signing_key="/var/lib/shim/MOK.priv"' in conf and 'mok_certificate="/var/lib/shim/MOK.der"' in conf
    assert value("cuda_toolkit", "__cuda_toolkit_packages", "Amazon-2023") == ["cuda-toolkit-12-8"]
    assert value("cuda_toolkit", "__cuda_toolkit_packages", "RedHat-9", cuda_toolkit_profile="runtime") == [
        "cuda-libraries-12-8"]
    assert value("cuda_toolkit", "__cuda_toolkit_nvcc", "RedHat-9") == "/usr/local/cuda-12.8/bin/nvcc"
    assert value("dcgm", "__dcgm_packages", "Amazon-2023") == ["datacenter-gpu-manager-4-core",
                                                               "datacenter-gpu-manager-4-cuda12"]
    assert value("fabric_manager", "__fabric_manager_platform.packages", "Amazon-2023",
                 fabric_manager_branch="580") == ["nvidia-fabric-manager-580.*", "libnvidia-nscq-580.*"]


# ---- bad input fails early, naming the variable ------------------------------------------------------------


def _play(tmp_path: Path, platform: str, host_vars: dict, playbook: str = "playbooks/site.yml"):
    """ansible-playbook --check on localhost, with the platform's recorded facts in place of the controller's."""
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({**PLATFORMS[platform], "is_chroot": False, "kernel": "6.8.0-1017-aws"}))
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"gpu": {"hosts": {"node": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ansible_become": False, **host_vars}}}}}}))
    result = ansible_playbook(playbook, inventory, env={
        "ANSIBLE_FACTS_MODULES": "recorded_facts", "ANSIBLE_LIBRARY": str(Path(__file__).parent / "library"),
        "NEWINFRA_RECORDED_FACTS": str(facts)}, extra_args=["--check"])
    assert result.rc != 0, result.output[-3000:]
    return result.output


BAD_INPUTS = [
    ("unsupported-os", "Gentoo-2", {"expected_accelerators": 8},
     "ansible_distribution-ansible_distribution_major_version is Gentoo-2: not supported by nvidia_driver"),
    ("unknown-branch", "Ubuntu-24", {"expected_accelerators": 8, "nvidia_driver_branch": "999"},
     "value of nvidia_driver_branch must be one of: 535, 550, 570, 575, 580, 590, got: 999"),
    ("modules-not-on-platform", "Amazon-2023", {"expected_accelerators": 8, "nvidia_driver_kernel_modules": "none"},
     "nvidia_driver_kernel_modules=none (valid: dkms)"),
    ("branch-not-on-platform", "Debian-12", {"expected_accelerators": 8, "nvidia_driver_branch": "580"},
     "nvidia_driver_branch=580 (valid: 535)"),
    ("missing-driver-source", "Amazon-2023", {"expected_accelerators": 8, "nvidia_driver_repo_url": ""},
     "nvidia_driver_repo_url='' and nvidia_driver_repo_key="),
    ("missing-count", "Ubuntu-24", {}, "expected_accelerators is undefined"),
    ("zero-count", "Ubuntu-24", {"expected_accelerators": 0}, "expected_accelerators is 0"),
]


@pytest.mark.parametrize(("case", "platform", "host_vars", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_fails_early_naming_the_variable(tmp_path, case, platform, host_vars, message) -> None:
    output = _play(tmp_path, platform, host_vars)
    assert message in output, output[-3000:]
    assert "changed=0" in output  # failed before touching anything


def test_validation_needs_the_expected_count(tmp_path: Path) -> None:
    output = _play(tmp_path, "Ubuntu-24", {"nvidia_driver_branch": "580"}, "playbooks/validate.yml")
    assert "gpu_validate_expected_count (from expected_accelerators) is ''" in output or \
        "gpu_validate_expected_count (from expected_accelerators) is 'None'" in output, output[-3000:]


# Each role on its own: one host per bad input, the role's first check must stop it with the variable's name.
ROLE_BAD_INPUTS = {
    "Amazon-2023": {
        "efa-checksum-missing": ("efa", {}, "efa_installer_sha256='' (64 hex digits"),
        "dcgm-source-missing": ("dcgm", {"dcgm_repo_url": ""}, "dcgm_repo_url='' and dcgm_repo_key="),
        "toolkit-source-missing": ("container_runtime", {"container_runtime_nvidia_repo_url": ""},
                                   "container_runtime_nvidia_repo_url=''"),
        "cuda-source-missing": ("cuda_toolkit", {"cuda_toolkit_repo_url": ""}, "cuda_toolkit_repo_url=''"),
        "fm-branch-differs": ("fabric_manager", {"nvidia_driver_branch": "580", "fabric_manager_branch": "570"},
                              "fabric_manager_branch=570 must equal nvidia_driver_branch=580"),
    },
    "Debian-12": {
        "fm-source-missing": ("fabric_manager", {"nvidia_driver_branch": "535"}, "fabric_manager_repo_url=''"),
        "tpu-chips-missing": ("tpu_runtime", {}, "tpu_runtime_expected_chips\n(0, from expected_accelerators)"),
    },
    "RedHat-9": {
        "tpu-unsupported-os": ("tpu_runtime", {"expected_accelerators": 4}, "tpu_runtime on RedHat-9 (supported:"),
        "cuda-version-malformed": ("cuda_toolkit", {"cuda_toolkit_version": "12"}, "cuda_toolkit_version=12"),
    },
}


@pytest.mark.parametrize("platform", sorted(ROLE_BAD_INPUTS))
def test_each_role_refuses_bad_input_naming_the_variable(platform: str, tmp_path: Path) -> None:
    cases = ROLE_BAD_INPUTS[platform]
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({**PLATFORMS[platform], "is_chroot": False, "kernel": "6.1.0-28-cloud-amd64"}))
    playbook = tmp_path / "role.yml"
    playbook.write_text(json.dumps([{"name": "One role per host", "hosts": "all", "gather_facts": True,
                                     "tasks": [{"name": "Run the role under test",
                                                "ansible.builtin.include_role": {"name": "{{ role_under_test }}"}}]}]))
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {name: {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ansible_become": False, "role_under_test": role, **host_vars}
        for name, (role, host_vars, _) in cases.items()}}}))
    result = ansible_playbook(str(playbook), inventory, env={
        "ANSIBLE_FACTS_MODULES": "recorded_facts", "ANSIBLE_LIBRARY": str(Path(__file__).parent / "library"),
        "ANSIBLE_ROLES_PATH": str(ROLES), "NEWINFRA_RECORDED_FACTS": str(facts),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}, extra_args=["--check"])
    messages = {}
    for block in result.output.split("fatal: [")[1:]:
        host, rest = block.split("]: FAILED! => ", 1)
        messages[host] = json.JSONDecoder().raw_decode(rest.lstrip())[0]["msg"]
    for name, (_, _, message) in cases.items():
        assert result.recap(name)["failed"] == 1 and result.recap(name)["changed"] == 0, name
        assert " ".join(message.split()) in " ".join(messages[name].split()), (name, messages[name])
