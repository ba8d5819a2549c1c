"""Behaviour follows the declared profile, whatever the environment is called."""

from __future__ import annotations

import pytest
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.planning.profile import BEHAVIOUR, PROFILES, behaviour

from newinfra.placement import Placement

SERVE = Placement(workload="serve", cloud="aws", region="us-east-1", zones=("use1-az1",), instance_type="g6.xlarge",
                  accelerator="L4", accelerators_per_node=1, nodes=2, min_nodes=1, max_nodes=4)


def test_every_profile_has_a_behaviour():
    assert set(BEHAVIOUR) == set(PROFILES) == {"production", "development"}


def test_production_keeps_the_floor_development_scales_to_zero():
    assert plan_node_pool(SERVE, kind="inference", profile="production")["min_size"] == 1
    assert plan_node_pool(SERVE, kind="inference", profile="development")["min_size"] == 0
    assert behaviour("production").nat_per_zone and not behaviour("development").nat_per_zone
    assert behaviour("production").moves_need_accept and not behaviour("development").moves_need_accept


def test_an_environment_name_is_not_a_profile():
    with pytest.raises(ValueError, match=r"profile: 'prod' is not valid; valid: \['production', 'development'\]"):
        plan_node_pool(SERVE, kind="inference", profile="prod")
