"""The page: the report's data, its charts and graphs, through the jinja2 template (autoescaped)."""

from __future__ import annotations

from typing import Any

from newinfra.report.graph import COLOURS


def money(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.2f}"


def delta(x: float | None) -> str:
    return "n/a" if x is None else f"{'+' if x >= 0 else '-'}${abs(x):,.2f}"


def css(status: str) -> str:
    return status.replace(" ", "-")


def render(d: dict[str, Any]) -> str:
    """The HTML text of the report of ``d`` (newinfra.report.data.build)."""
    import jinja2

    from newinfra.report import charts, graph

    env = jinja2.Environment(loader=jinja2.PackageLoader("newinfra.report", "."), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    svgs = {"overview": graph.overview(d["graph"]),
            "components": [graph.component(i, c) if c["children"] else None
                           for i, c in enumerate(d["graph"]["components"])]}
    drawn = {"bill": charts.bill_chart(d["bill"]["groups"]), "change": charts.change_chart(d["change"]),
             "placement": charts.placement_chart(d["placements"]["workloads"])}
    where = {c["id"]: f"c{i}" for i, c in enumerate(d["graph"]["components"])}
    where.update({ch["urn"]: f"c{i}n{j}" for i, c in enumerate(d["graph"]["components"])
                  for j, ch in enumerate(c["children"])})
    return env.get_template("report.html.j2").render(d=d, charts=drawn, svgs=svgs, where=where, money=money,
                                                     delta=delta, css=css, colours=COLOURS)
