"""Real Ansible targets: debootstrapped minbase root filesystems reached with community.general.chroot.

A root filesystem is built once per machine and kept as a tarball (reused by later runs); each test unpacks its
own copy, mounts /proc, /sys, /dev and a shared apt archive cache, and unmounts all of it at teardown, even on
failure. Needs root, debootstrap and the Ubuntu archive keyring (ansible/ci-setup.sh installs them).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
CACHE = Path(os.environ.get("NEWINFRA_ROOTFS_CACHE", "/var/cache/newinfra-rootfs"))
UBUNTU_KEYRING = Path("/usr/local/share/keyrings/ubuntu-archive-keyring.gpg")
TIMINGS = REPO / "build" / "ansible-targets" / "timings.json"


@dataclass(frozen=True)
class Distro:
    name: str
    suite: str
    mirror: str
    sources: str  # what the stock cloud image has: main only; the roles add the components they need
    debootstrap_args: tuple


DISTROS = {
    "ubuntu-24.04": Distro(
        "ubuntu-24.04", "noble", "http://archive.ubuntu.com/ubuntu",
        "deb http://archive.ubuntu.com/ubuntu noble main\n"
        "deb http://archive.ubuntu.com/ubuntu noble-updates main\n"
        "deb http://security.ubuntu.com/ubuntu noble-security main\n",
        # Debian 12's debootstrap predates noble; every Ubuntu release uses the gutsy script.
        (f"--keyring={UBUNTU_KEYRING}",), ),
    "debian-12": Distro(
        "debian-12", "bookworm", "http://deb.debian.org/debian",
        "deb http://deb.debian.org/debian bookworm main\n"
        "deb http://deb.debian.org/debian bookworm-updates main\n"
        "deb http://deb.debian.org/debian-security bookworm-security main\n",
        ("--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",), ),
}
SCRIPTS = {"noble": "/usr/share/debootstrap/scripts/gutsy"}
# Python for Ansible, and systemd as on every cloud image (the roles enable units with systemctl).
INCLUDE = "python3,python3-apt,ca-certificates,systemd,systemd-sysv"


def _run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kwargs)


def rootfs_tarball(distro: Distro) -> Path:
    """The cached minbase tarball of `distro`, built (once, under a lock) when absent."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{distro}{INCLUDE}".encode()).hexdigest()[:10]  # a changed recipe gets a new tarball
    tarball = CACHE / f"{distro.name}-minbase-{key}.tar"
    with open(CACHE / f"{distro.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.exists():
            return tarball
        build = CACHE / f"{distro.name}.build"
        _remove_tree(build)
        argv = ["debootstrap", "--variant=minbase", f"--include={INCLUDE}",
                *distro.debootstrap_args, distro.suite, str(build), distro.mirror]
        if distro.suite in SCRIPTS:
            argv.append(SCRIPTS[distro.suite])
        try:
            _run(argv)
        except subprocess.CalledProcessError as error:
            _remove_tree(build)  # debootstrap leaves /proc mounted inside when it fails
            raise RuntimeError(f"debootstrap {distro.suite} failed:\n{error.stdout[-3000:]}{error.stderr[-2000:]}") from error
        (build / "etc/apt/sources.list").write_text(distro.sources)
        shutil.rmtree(build / "var/cache/apt/archives", ignore_errors=True)
        (build / "var/cache/apt/archives/partial").mkdir(parents=True)
        _run(["tar", "--create", "--file", f"{tarball}.part", "--numeric-owner", "-C", str(build), "."])
        os.replace(f"{tarball}.part", tarball)
        _remove_tree(build)
        return tarball


def _remove_tree(path: Path) -> None:
    """rm -rf that never crosses into a mount: unmount everything below first."""
    if path.exists():
        unmount_all(path)
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below `root`, deepest first."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def unmount_all(root: Path) -> None:
    for point in mounts_under(root):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", point], capture_output=True)
    left = mounts_under(root)
    if left:
        raise RuntimeError(f"mounts left under {root}: {left}")


@contextmanager
def chroot_target(distro: Distro, workdir: Path):
    """An unpacked, mounted root filesystem of `distro`; torn down on exit whatever happened."""
    tarball = rootfs_tarball(distro)
    root = workdir / "root"
    root.mkdir(parents=True)
    apt_cache = CACHE / "apt-archives" / distro.name
    (apt_cache / "partial").mkdir(parents=True, exist_ok=True)
    # apt locks the shared archive cache: concurrent test runs on this machine take turns per distribution.
    lock = open(CACHE / f"{distro.name}.apt-cache.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        _run(["tar", "--extract", "--file", str(tarball), "--numeric-owner", "-C", str(root)])
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        # Packages must not start daemons inside the chroot (the roles also pass policy_rc_d).
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        _run(["mount", "-t", "proc", "proc", str(root / "proc")])
        _run(["mount", "-t", "sysfs", "-o", "ro", "sysfs", str(root / "sys")])
        _run(["mount", "--bind", "/dev", str(root / "dev")])
        _run(["mount", "--bind", str(apt_cache), str(root / "var/cache/apt/archives")])
        yield root
    finally:
        _remove_tree(root)
        lock.close()


def write_inventory(path: Path, root: Path, host_vars: dict) -> Path:
    inventory = {"all": {"children": {"gpu": {"hosts": {"target": {
        "ansible_connection": "community.general.chroot", "ansible_host": str(root),
        "ansible_python_interpreter": "/usr/bin/python3", **host_vars}}}}}}
    path.write_text(json.dumps(inventory, indent=1))
    return path


_RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


@dataclass
class PlayResult:
    rc: int
    output: str
    seconds: float

    def recap(self, host: str = "target") -> dict:
        for match in _RECAP.finditer(self.output):
            if match.group(1) == host:
                ok, changed, unreachable, failed = (int(g) for g in match.groups()[1:])
                return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}
        raise AssertionError(f"no PLAY RECAP line for {host}:\n{self.output[-4000:]}")


def ansible_playbook(playbook: str, inventory: Path, extra_vars: dict | None = None,
                     env: dict | None = None, extra_args: list | None = None) -> PlayResult:
    """Run ansible-playbook from ansible/ (its ansible.cfg) with the project's virtualenv."""
    bin_dir = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"
    argv = [str(bin_dir / "ansible-playbook"), "-i", str(inventory), playbook]
    if extra_vars:
        argv += ["--extra-vars", json.dumps(extra_vars)]
    argv += extra_args or []
    full_env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0", "PATH": f"{bin_dir}:{os.environ['PATH']}", **(env or {})}
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ANSIBLE_DIR, env=full_env, text=True, capture_output=True)
    return PlayResult(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start)


def record_timing(target: str, values: dict) -> None:
    """Merge one target's timings into build/ansible-targets/timings.json (printed by the tests too)."""
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[target] = {k: round(v, 1) if isinstance(v, float) else v for k, v in sorted(values.items())}
    TIMINGS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
