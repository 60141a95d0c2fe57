"""Hypothesis strategies for hostile and nearly-valid events, shared by the property tests."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from tests.unit.events.examples import PAYLOADS, VALID_FNR, event

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                    st.sampled_from(["1804", "home", "psn-abcdefgh12", VALID_FNR, "2026-11-23T10:00:00Z", "guidance"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                           max_leaves=20)


def paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (the value itself first)."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*path, index))
    return found


def _at(value: Any, path: tuple) -> tuple[Any, Any]:
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    return parent, path[-1]


@st.composite
def mutated_events(draw) -> dict:
    """A valid event with one part replaced, removed, or a field added, somewhere."""
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    original = event(name)
    mutated = copy.deepcopy(original)
    path = draw(st.sampled_from(paths(original)[1:]))
    parent, last = _at(mutated, path)
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[last] = draw(json_values)
    elif action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=10))] = draw(json_values)
    return mutated


class Text(str):
    """A str subclass, as some producers pass (enum members, proxies)."""


def _lookalikes(value: Any) -> st.SearchStrategy:
    """Values a lax validator might confuse with `value`: other Python types for the same JSON, edges."""
    if isinstance(value, bool):
        return st.sampled_from([int(value), float(value), str(value).lower(), None, not value])
    if isinstance(value, int):
        return st.sampled_from([float(value), True, False, str(value), value + 1, -value, 10**20, value * 1000])
    if isinstance(value, float):
        return st.sampled_from([int(value), float("nan"), float("inf"), -value, value * 1000, str(value), 1e308])
    if isinstance(value, str):
        return st.sampled_from([value + "\n", "\n" + value, value + " ", value.upper(), value.lower(), "", value * 5,
                                value[:-1], Text(value), value.encode(), value.replace("-", "\u2011"),
                                "\u0661\u0668\u0660\u0664", value + "\x00", VALID_FNR, value[:4] + "-02-30" + value[10:],
                                value.replace("+01:00", ""), value.replace("+01:00", "+24:00"), value + "0"])
    if isinstance(value, list):
        return st.sampled_from([tuple(value), [], value + value, value[:1] * 20, [None], value[::-1]])
    if isinstance(value, dict):
        return st.sampled_from([{}, {**value, "extra": 1}, dict(list(value.items())[1:]), list(value.values())])
    return st.just(value)


@st.composite
def nearly_valid_events(draw) -> dict:
    """A valid event with one value swapped for a lookalike: a float for an integer, True for 1, a tuple for a
    list, a trailing newline, a str subclass, an impossible date, a duplicated list item, an extra field..."""
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    mutated = copy.deepcopy(event(name))
    path = draw(st.sampled_from(paths(mutated)[1:]))
    parent, last = _at(mutated, path)
    parent[last] = draw(_lookalikes(parent[last]))
    return mutated
