"""The resource graph as static SVG, laid out by Graphviz `dot` (Debian's graphviz package; the `graphviz`
PyPI package writes the DOT source with its quoting and runs the binary).

Collapsed by component: one overview of the top-level components, clustered by cloud and region, with their
dependency edges; then one small graph per component of its resources and their parent links, shown in a
<details> the reader opens. Each node is filled by its worst finding and carries the findings as its hover
text (the SVG <title> of its link) and a link to its entry in the side list.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

COLOURS = {"mandatory": "#f4a6a0", "advisory": "#fbd38d", "not inspected": "#d5d8dc", "clean": "#b7e4c7"}
BORDERS = {"mandatory": "#c0392b", "advisory": "#b7791f", "not inspected": "#7f8c8d", "clean": "#2d6a4f"}
MAX_TOOLTIP = 600  # characters of findings text on a node; the side list has them whole


class DotMissing(RuntimeError):
    """Graphviz's `dot` is not on PATH."""


def _money(x: float) -> str:
    return f"${x:,.2f}/mo"


def _tooltip(status: str, findings: list[dict[str, Any]]) -> str:
    if not findings:
        return status
    text = "; ".join(f"{f['level']} {f['policy']}: {f['message']}" for f in findings)
    return text if len(text) <= MAX_TOOLTIP else text[:MAX_TOOLTIP - 1] + "…"


def _render(dot: Any) -> str:
    import graphviz

    try:
        svg = dot.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as e:
        raise DotMissing("newinfra report needs Graphviz's `dot` on PATH to lay out the resource graph: "
                         "install it (`apt-get install graphviz`, or `make setup`)") from e
    svg = re.sub(r"<!-- .*? -->\n", "", svg[svg.index("<svg"):])  # dot's comments repeat each node's id
    # dot writes geometry to 1/100 pt; whole points draw the same on screen and make a big page a third lighter
    svg = _GEOMETRY.sub(lambda m: m[1] + _DECIMAL.sub(lambda n: str(round(float(n[0]))), m[2]) + '"', svg)
    # every label is the same font, centred (the page's CSS says so once: `.svg text`), and a hyphen needs no
    # escaping in SVG text: together a quarter of a 2,000-resource page
    return svg.replace(' text-anchor="middle"', "").replace(
        ' font-family="Helvetica,sans-Serif" font-size="10.00"', "").replace("&#45;", "-")


_GEOMETRY = re.compile(r'(\s(?:points|d|x|y|transform|viewBox|width|height|cx|cy|rx|ry)=")([^"]*)"')
_DECIMAL = re.compile(r"-?\d+\.\d+")


def _node(g: Any, node_id: str, label: str, status: str, findings: list[dict[str, Any]], href: str) -> None:
    # plain boxes: a rounded one is a 20-point path, and a 2,000-resource page draws thousands of them
    # A node with findings links to its entry and shows them on hover; a clean one carries no link (its
    # entry is beside it), which keeps a 2,000-resource page's graphs a third smaller.
    link = {"tooltip": _tooltip(status, findings), "URL": href} if findings or status != "clean" else {}
    g.node(node_id, label=label, style="filled", shape="box", fillcolor=COLOURS[status],
           color=BORDERS[status], penwidth="2" if status == "mandatory" else "1", fontname="Helvetica",
           fontsize="10", **link)


def anchor(index: int) -> str:
    return f"c{index}"


def overview(graph: dict[str, Any]) -> str:
    """Every top-level component, clustered by cloud then region, sized by nothing but labelled by cost."""
    import graphviz

    dot = graphviz.Digraph("components", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11",
                                                     "nodesep": "0.15", "ranksep": "0.5"})
    ids = {c["id"]: anchor(i) for i, c in enumerate(graph["components"])}
    places: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = defaultdict(lambda: defaultdict(list))
    for i, c in enumerate(graph["components"]):
        places[c["cloud"]][c["region"]].append((i, c))
    for cloud in sorted(places):
        with dot.subgraph(name=f"cluster_{cloud}") as cg:
            cg.attr(label=cloud, style="rounded", color="#555555")
            for region in sorted(places[cloud]):
                with cg.subgraph(name=f"cluster_{cloud}_{region}") as rg:
                    rg.attr(label=region, style="dashed", color="#999999")
                    for _i, c in places[cloud][region]:
                        label = f"{c['name']}\n{c['type'] or 'providers and top-level resources'}\n" \
                                f"{c['resources']} resources, {_money(c['monthlyUsd'])}"
                        if c["findingCount"]:
                            label += f"\n{c['findingCount']} finding(s)"
                        _node(rg, ids[c["id"]], label, c["status"], c["findings"] + [
                            f for ch in c["children"] for f in ch["findings"]], f"#{ids[c['id']]}")
    for e in graph["edges"]:
        dot.edge(ids[e["from"]], ids[e["to"]], color="#888888", arrowsize="0.6")
    return _render(dot)


def component(index: int, comp: dict[str, Any]) -> str:
    """One component's resources, with their parent links (a tree, top to bottom)."""
    import graphviz

    dot = graphviz.Digraph(anchor(index), graph_attr={"rankdir": "LR", "fontname": "Helvetica", "nodesep": "0.1"})
    ids = {comp["id"]: f"{anchor(index)}r"}
    _node(dot, ids[comp["id"]], f"{comp['name']}\n{comp['type']}", worst_own(comp), comp["findings"],
          f"#{anchor(index)}")
    for j, ch in enumerate(comp["children"]):
        ids[ch["urn"]] = f"{anchor(index)}n{j}"
    for j, ch in enumerate(comp["children"]):
        label = f"{ch['name']}\n{ch['type'].rsplit(':', 1)[-1]}"
        if ch["monthlyUsd"]:
            label += f"\n{_money(ch['monthlyUsd'])}"
        _node(dot, ids[ch["urn"]], label, ch["status"], ch["findings"], f"#{anchor(index)}n{j}")
        if ch["parent"] in ids:
            dot.edge(ids[ch["parent"]], ids[ch["urn"]], color="#888888", arrowsize="0.5")
    return _render(dot)


def worst_own(comp: dict[str, Any]) -> str:
    from newinfra.report.data import status_of

    return status_of(comp["findings"]) if comp["type"] else "clean"
