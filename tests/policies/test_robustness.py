"""Rules never crash on odd inputs (another team's program may type anything): every leaf of every fixture,
replaced by any JSON value, still yields verdicts, not an exception."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policies.builders import check
from tests.policies.test_rules import CASES

JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [prefix] + [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [prefix] + [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))]
    return [prefix]


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


FIXTURES = [(c, r) for c in CASES for r in c.failing + c.passing if r["inputs"]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_value_anywhere_gives_verdicts_not_exceptions(data) -> None:
    case, resource = data.draw(st.sampled_from(FIXTURES))
    inputs = copy.deepcopy(resource["inputs"])
    path = data.draw(st.sampled_from(_paths(inputs)[1:] or [()]))
    mutated = {**resource, "inputs": _replace(inputs, path, data.draw(JSON))}
    if not isinstance(mutated["inputs"], dict):
        mutated["inputs"] = {}
    others = [r for r in case.failing if r["urn"] != resource["urn"]]
    check([*others, mutated], config=case.config, environment=case.environment)
