"""pulumi-alicloud 4.0 types ManagedKubernetes.connections as a list; the offline mocks answer a single object,
which the SDK refuses. Until stacks/offline/mocks.py answers a list, these tests wrap it (a no-op after)."""

from __future__ import annotations

import pytest

from stacks.offline import mocks


@pytest.fixture(scope="module", autouse=True)
def _ack_connections_as_list():
    original = mocks._alicloud_state

    def state(typ, name, urn, inputs):
        rid, computed = original(typ, name, urn, inputs)
        if isinstance(computed.get("connections"), dict):
            computed["connections"] = [computed["connections"]]
        return rid, computed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mocks, "_alicloud_state", state)
        yield
