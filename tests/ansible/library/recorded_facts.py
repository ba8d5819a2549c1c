#!/usr/bin/python
"""Test-only Ansible facts module: serves a recorded platform's facts (JSON file in $NEWINFRA_RECORDED_FACTS)
instead of the controller's, so the roles' platform checks run for AL2023, RHEL, Gentoo... on any machine."""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    with open(os.environ["NEWINFRA_RECORDED_FACTS"]) as handle:
        module.exit_json(changed=False, ansible_facts=json.load(handle))


if __name__ == "__main__":
    main()
