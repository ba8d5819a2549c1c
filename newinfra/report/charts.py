"""The report's charts as static SVG: Vega-Lite specs built with altair, rendered by vl-convert (its own
embedded engine, no browser, no network). Static SVG keeps the page script-free and small: plotly's inlined
bundle alone is 4.8 MB, more than a whole 2,000-resource report may weigh."""

from __future__ import annotations

from typing import Any

WIDTH = 640
TOP_KINDS = 9  # more colours than this are unreadable: the smaller kinds are summed as "other"


def _svg(chart: Any) -> str:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict())
    return svg[svg.index("<svg"):]  # drop the XML prolog: the SVG is inlined in HTML


def bill_chart(groups: list[dict[str, Any]]) -> str | None:
    """Bars per cloud / region, stacked by resource kind; accelerator nodes are their own kind (first)."""
    import altair as alt

    if not groups:
        return None
    by_kind: dict[str, float] = {}
    for g in groups:
        by_kind[g["kind"]] = by_kind.get(g["kind"], 0.0) + g["monthlyUsd"]
    keep = {k for k, _ in sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_KINDS]}
    keep.add("accelerator nodes")
    rows: dict[tuple[str, str], float] = {}
    for g in groups:
        key = (f"{g['cloud']} / {g['region']}", g["kind"] if g["kind"] in keep else "other")
        rows[key] = rows.get(key, 0.0) + g["monthlyUsd"]
    values = [{"place": p, "kind": k, "usd": round(v, 2)} for (p, k), v in sorted(rows.items()) if v > 0]
    kinds: list[str] = sorted({str(v["kind"]) for v in values},
                              key=lambda k: (k != "accelerator nodes", k == "other", k))
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("place:N", title="cloud / region", sort="ascending"),
        x=alt.X("sum(usd):Q", title="USD per month (desired size)"),
        color=alt.Color("kind:N", title="resource kind", sort=kinds, scale=alt.Scale(scheme="tableau10")),
        order=alt.Order("kind:N"),
    ).properties(width=WIDTH, title="Monthly bill by cloud, region and resource kind")
    return _svg(chart)


def change_chart(change: dict[str, Any] | None, top: int = 20) -> str | None:
    """The biggest changes against the base branch, per resource (up red, down green)."""
    import altair as alt

    if not change or not change["resources"]:
        return None
    moved = sorted(change["resources"], key=lambda r: (-abs(r["deltaUsd"]), r["urn"]))[:top]
    values = [{"resource": r["name"], "delta": r["deltaUsd"], "direction": "up" if r["deltaUsd"] > 0 else "down"}
              for r in moved]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("resource:N", sort="-x", title=None),
        x=alt.X("delta:Q", title="change, USD per month"),
        color=alt.Color("direction:N", scale=alt.Scale(domain=["up", "down"], range=["#c0392b", "#27ae60"]),
                        legend=None),
    ).properties(width=WIDTH, title=f"Change against the base branch (top {len(values)})")
    return _svg(chart)


def placement_chart(workloads: list[dict[str, Any]]) -> str | None:
    """Per workload: the chosen placement's monthly cost beside its next alternatives'."""
    import altair as alt

    values = []
    for w in workloads:
        if w["monthlyUsd"] is None or not w["pools"]:
            continue
        p = w["pools"][0]
        values.append({"workload": w["workload"], "option": f"chosen: {p['cloud']}/{p['region']} {p['instanceType']}",
                       "usd": w["monthlyUsd"], "chosen": "chosen"})
        for i, a in enumerate(w["alternatives"], 1):
            values.append({"workload": w["workload"], "usd": a["monthlyUsd"], "chosen": "alternative",
                           "option": f"#{i}: {a['cloud']}/{a['region']} {a['instanceType']}"})
    if not values:
        return None
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("option:N", title=None, sort=None),
        x=alt.X("usd:Q", title="USD per month"),
        color=alt.Color("chosen:N", scale=alt.Scale(domain=["chosen", "alternative"], range=["#2c7fb8", "#bbbbbb"]),
                        title=None),
        row=alt.Row("workload:N", title=None),
    ).properties(width=WIDTH - 120, title="Placements and their next alternatives").resolve_scale(
        y="independent", x="independent")
    return _svg(chart)
