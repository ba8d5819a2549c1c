"""Every resource carries the cost tags; data-bearing ones carry their data classification."""

import pytest
from newinfra.components.planning.tags import with_cost_tags

from newinfra.errors import ComponentInputError


def test_cost_tags_and_classification():
    assert with_cost_tags({"owner": "a", "cost-center": "b"}, "cn-resident") == {
        "cost-center": "b", "newinfra-data-classification": "cn-resident", "owner": "a"}
    assert list(with_cost_tags({"owner": "a", "cost-center": "b", "app": "x"})) == ["app", "cost-center", "owner"]


def test_missing_cost_tags():
    with pytest.raises(ComponentInputError, match=r"tags: missing required keys \['owner', 'cost-center'\]; got \[\]"):
        with_cost_tags({})
