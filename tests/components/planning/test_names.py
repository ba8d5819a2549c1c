"""Physical names: every kind's length and charset, stable, and no two stacks ever ask for the same name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newinfra.components.planning.names import HASH_LEN, LIMITS, UnknownKind, is_valid, physical_name

from newinfra.config import ENVIRONMENT_PATTERN

kinds = st.sampled_from(sorted(LIMITS))
stacks = st.from_regex(ENVIRONMENT_PATTERN, fullmatch=True)
projects = st.from_regex(r"[A-Za-z0-9_.-]{1,40}", fullmatch=True)
# Logical names as programs write them, and worse: any text, long, with characters no cloud accepts.
names = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,80}", fullmatch=True), st.text(min_size=1, max_size=200))


@given(kinds, projects, stacks, names)
def test_every_kind_gets_a_name_its_cloud_accepts(kind, project, stack, name):
    assert is_valid(kind, physical_name(kind, project, stack, name))


@given(kinds, projects, stacks, stacks, names)
def test_distinct_stacks_never_collide(kind, project, one, other, name):
    if one != other:
        assert physical_name(kind, project, one, name) != physical_name(kind, project, other, name)


@given(kinds, st.tuples(names, names), st.tuples(stacks, stacks))
def test_distinct_stack_name_pairs_never_collide(kind, logical, stack_pair):
    """Not only the same logical name in two stacks: no (stack, name) pair takes another's physical name."""
    (a, b), (s, t) = logical, stack_pair
    if (s, a) != (t, b):
        assert physical_name(kind, "newinfra", s, a) != physical_name(kind, "newinfra", t, b)


@given(kinds, projects, stacks, names)
def test_stable(kind, project, stack, name):
    assert physical_name(kind, project, stack, name) == physical_name(kind, project, stack, name)


def test_readable_when_it_fits():
    assert physical_name("aws:eks:cluster", "newinfra", "dev", "aws-us-east-1-gpu") == \
        "newinfra-dev-aws-us-east-1-gpu"
    assert physical_name("aws:eks:node-group", "newinfra", "qa", "aws-us-east-1-gpu-train") == \
        "newinfra-qa-aws-us-east-1-gpu-train"


def test_too_long_is_cut_with_a_hash_of_the_whole_name():
    long = physical_name("gcp:serviceaccount:account-id", "newinfra", "staging", "gcp-us-central1-gpu-nodes")
    assert len(long) <= 30 and long.startswith("newinfra-staging-gcp")
    assert long != physical_name("gcp:serviceaccount:account-id", "newinfra", "staging", "gcp-us-central1-tpu-nodes")
    assert long[-HASH_LEN - 1] == "-"


def test_hyphenated_stack_cannot_pose_as_another_split():
    # "dev" + "x-gpu" and "dev-x" + "gpu" read the same; the hyphenated stack's name carries a hash.
    plain = physical_name("aws:eks:cluster", "newinfra", "dev", "x-gpu")
    assert plain == "newinfra-dev-x-gpu"
    assert physical_name("aws:eks:cluster", "newinfra", "dev-x", "gpu") != plain


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(UnknownKind, match="aws:eks:cluster"):
        physical_name("aws:eks:clusters", "newinfra", "dev", "x")


@pytest.mark.parametrize(("kind", "value", "ok"), [
    ("gcp:serviceaccount:account-id", "abcde", False),  # GCP wants 6 or more
    ("gcp:container:node-pool", "a" * 41, False),
    ("aws:eks:node-group", "Upper", False),
    ("alicloud:log:project", "ends-", False),
    ("alicloud:log:project", "abc", True),
])
def test_is_valid(kind, value, ok):
    assert is_valid(kind, value) is ok
