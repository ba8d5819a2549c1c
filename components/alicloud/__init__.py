"""Alibaba Cloud components (newinfra:alicloud:…): network, storage, ACK GPU clusters.

Modules are imported one by one so a stack pays for pulumi_alicloud only when it uses Alibaba Cloud.
"""
