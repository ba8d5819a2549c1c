"""The one component error: the SDK's InputPropertyError, a ValueError for the CLI, and nested paths."""

import pulumi
import pytest

from newinfra.errors import ComponentInputError, input_path


def test_the_error_is_the_sdks_input_property_error_with_a_one_line_message():
    error = ComponentInputError("node_pools[1].instance_type", "'m5.large' has no accelerated EKS AMI")
    assert isinstance(error, pulumi.InputPropertyError) and isinstance(error, ValueError)
    assert (error.property_path, error.reason) == ("node_pools[1].instance_type", "'m5.large' has no accelerated EKS AMI")
    assert str(error) == "node_pools[1].instance_type: 'm5.large' has no accelerated EKS AMI"


@pytest.mark.parametrize(("prefix", "path", "full"), [
    ("node_pools[1]", "market", "node_pools[1].market"),
    ("node_pools[0]", "taints[].effect", "node_pools[0].taints[].effect"),
    ("teams", "[2]", "teams[2]"),
])
def test_checks_of_a_nested_argument_raise_with_the_full_path(prefix, path, full):
    with pytest.raises(ComponentInputError) as info, input_path(prefix):
        raise ComponentInputError(path, "'x' is not valid; valid: ['y']")
    assert info.value.property_path == full
    assert str(info.value) == f"{full}: 'x' is not valid; valid: ['y']"


def test_other_errors_pass_through_unchanged():
    with pytest.raises(KeyError), input_path("pool"):
        raise KeyError("instance_type")
