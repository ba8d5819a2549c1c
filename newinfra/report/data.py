"""The report's data: one plain, JSON-able, sorted structure from the record, the lock, the whole bill and the
policy verdicts. Pure: no I/O, no Pulumi, no solver (the placement explanation comes in as plain data).

Every figure is the bill's: totals from ``pricebook.bill.totals`` (what `newinfra cost`, `check` and the lock
say), each resource's from its ``Priced`` lines. Nothing is re-summed here except chart groups, which are
labelled as the parts they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# Worst first: a node takes the worst status among its own findings (and, collapsed, its descendants').
STATUSES = ("mandatory", "advisory", "not inspected", "clean")
NOT_INSPECTED_POLICY = "not-inspected"
STACK_NODE = "(stack)"  # the pseudo-component of resources that have no component parent (providers)


def kind_of(resource_type: str) -> str:
    """``aws:ec2/launchTemplate:LaunchTemplate`` -> ``LaunchTemplate``; ``pulumi:providers:aws`` -> ``provider``."""
    if resource_type.startswith("pulumi:providers:"):
        return "provider"
    return resource_type.rsplit(":", 1)[-1] or resource_type


def status_of(findings: Iterable[Mapping[str, Any]], inspected: bool = True) -> str:
    levels = {f["level"] for f in findings}
    if "mandatory" in levels:
        return "mandatory"
    if any(f["level"] == "advisory" and f["policy"] != NOT_INSPECTED_POLICY for f in findings):
        return "advisory"
    if not inspected or any(f["policy"] == NOT_INSPECTED_POLICY for f in findings):
        return "not inspected"
    return "clean"


def worst(statuses: Iterable[str]) -> str:
    return min(statuses, key=STATUSES.index, default="clean")


def _finding(v: Any) -> dict[str, Any]:
    return {"level": v.level, "pack": v.pack, "policy": v.policy, "urn": v.urn, "resource": v.resource,
            "message": v.message}


def _money(x: float) -> float:
    return round(float(x), 2)


def bill_rows(bill: Any, cloud_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per priced resource: its monthly figure split into accelerator nodes (lines priced from the
    accelerator catalog) and the rest, with cloud, region and kind; sorted by URN."""
    rows = []
    for p in bill.priced:
        accel = sum(line.monthly_usd for line in p.lines if line.price.quality == "catalog")
        rows.append({"urn": p.urn, "name": p.name, "type": p.type, "kind": kind_of(p.type),
                     "cloud": cloud_of.get(p.urn, "") or "other", "region": p.region or "(no region)",
                     "monthlyUsd": p.monthly_usd, "maxMonthlyUsd": p.max_monthly_usd,
                     "acceleratorUsd": _money(accel), "otherUsd": _money(p.monthly_usd - round(accel, 2))})
    return sorted(rows, key=lambda r: r["urn"])


def bill_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chart's bars: cloud -> region -> kind, accelerator nodes apart (kind "accelerator nodes")."""
    sums: dict[tuple[str, str, str, bool], float] = defaultdict(float)
    for r in rows:
        if r["acceleratorUsd"]:
            sums[(r["cloud"], r["region"], "accelerator nodes", True)] += r["acceleratorUsd"]
        if r["otherUsd"]:
            sums[(r["cloud"], r["region"], r["kind"], False)] += r["otherUsd"]
    return [{"cloud": c, "region": g, "kind": k, "accelerator": a, "monthlyUsd": _money(v)}
            for (c, g, k, a), v in sorted(sums.items())]


def change(bill: Any, base: Mapping[str, float] | None, base_label: str | None) -> dict[str, Any] | None:
    """The bill against the base branch's (URN -> monthly USD from a base record or a base lock)."""
    if base is None:
        return None
    here = {p.urn: p for p in bill.priced}
    moved = []
    for urn in sorted(set(here) | set(base)):
        now = here[urn].monthly_usd if urn in here else 0.0
        was = float(base.get(urn, 0.0))
        if round(now - was, 2) != 0:
            name = here[urn].name if urn in here else urn.rsplit("::", 1)[-1]
            moved.append({"urn": urn, "name": name, "baseMonthlyUsd": _money(was), "monthlyUsd": _money(now),
                          "deltaUsd": _money(now - was)})
    base_total = _money(sum(base.values()))
    return {"source": base_label, "baseMonthlyUsd": base_total,
            "deltaUsd": _money(bill.totals.monthly_usd - base_total), "resources": moved}


def placements(lock: Mapping[str, Any] | None, explanation: Mapping[str, Any] | None,
               explanation_note: str | None = None) -> dict[str, Any]:
    """Each workload's placement from the lock, its next alternatives and their monthly delta; the left-out
    workloads; the savings against the baselines and the binding constraints (``explanation``, from the
    solver, or None when it could not be given)."""
    if not lock:
        return {"workloads": [], "leftOut": [], "explanation": None, "explanationNote": None, "lock": False}
    out = []
    for name, entry in sorted((lock.get("workloads") or {}).items()):
        pools = [{"cloud": p.get("cloud"), "region": p.get("region"), "zones": list(p.get("zones") or []),
                  "instanceType": p.get("instanceType"), "market": p.get("market"), "nodes": p.get("nodes"),
                  "minNodes": p.get("minNodes"), "maxNodes": p.get("maxNodes"),
                  "accelerator": p.get("accelerator"), "acceleratorsPerNode": p.get("acceleratorsPerNode"),
                  "tpuTopology": p.get("tpuTopology")} for p in entry.get("placements") or []]
        out.append({"workload": name, "pools": pools, "monthlyUsd": entry.get("monthlyUsd"),
                    "egressUsdPerMonth": entry.get("egressUsdPerMonth"), "pinned": bool(entry.get("pinned")),
                    "alternatives": [dict(a) for a in entry.get("alternatives") or []]})
    left = sorted(({"workload": lo.get("workload"), "priority": lo.get("priority"), "reason": lo.get("reason")}
                   for lo in lock.get("leftOut") or []), key=lambda lo: str(lo["workload"]))
    return {"workloads": out, "leftOut": left, "explanation": explanation, "explanationNote": explanation_note,
            "lock": True}


def _component_of(resources: list[dict[str, Any]]) -> dict[str, str]:
    """urn -> the URN of its top-level component (itself for a top-level component); resources with no
    component above them (providers, top-level custom resources) belong to STACK_NODE."""
    parent = {r["urn"]: r.get("parent") for r in resources}
    custom = {r["urn"]: r.get("custom", True) for r in resources}
    out: dict[str, str] = {}
    for urn in parent:
        top, seen = urn, set()
        while parent.get(top) in parent and top not in seen:
            seen.add(top)
            top = parent[top]
        out[urn] = top if not custom[top] else STACK_NODE
    return out


def graph(resources: list[dict[str, Any]], findings: list[dict[str, Any]], monthly: Mapping[str, float],
          region_of: Mapping[str, str], cloud_of: Mapping[str, str]) -> dict[str, Any]:
    """The resource graph collapsed by top-level component: each component with its cost (its whole subtree),
    worst status, findings and children (every descendant, with its parent link); component-level dependency
    edges; grouped by cloud and region (the most common among the component's resources)."""
    by_urn = {r["urn"]: r for r in resources}
    top = _component_of(resources)
    on: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        on[f["urn"]].append(f)
    members: dict[str, list[str]] = defaultdict(list)
    for urn in sorted(by_urn):
        members[top[urn]].append(urn)
    components = []
    for cid in sorted(members):
        urns = members[cid]
        children = []
        for urn in urns:
            if urn == cid:
                continue
            r = by_urn[urn]
            own = sorted(on.get(urn, []), key=lambda f: (STATUSES.index(status_of([f])), f["policy"]))
            children.append({"urn": urn, "name": r["name"], "type": r["type"], "parent": r.get("parent"),
                             "monthlyUsd": _money(monthly.get(urn, 0.0)), "findings": own,
                             "status": status_of(own, not r.get("remote"))})
        own = on.get(cid, [])
        where = Counter((cloud_of.get(u) or "", region_of.get(u) or "") for u in urns
                        if cloud_of.get(u) or region_of.get(u))
        head = by_urn.get(cid)
        # A component's cloud is its type's (newinfra:aws:GpuCluster), not its Kubernetes children's majority.
        named = head["type"].split(":")[1] if head and head["type"].count(":") >= 2 else ""
        where = Counter({k: n for k, n in where.items() if k[0] == named}) or where
        cloud, region = min(where.items(), key=lambda kv: (-kv[1], kv[0]))[0] if where else ("", "")
        if cid == STACK_NODE:  # providers of every cloud: no one place
            cloud, region = "stack", "providers"
        components.append({
            "id": cid, "name": head["name"] if head else STACK_NODE, "type": head["type"] if head else "",
            "cloud": cloud or "other", "region": region or "(no region)",
            "monthlyUsd": _money(sum(monthly.get(u, 0.0) for u in urns)), "resources": len(urns),
            "findings": own, "status": worst([status_of(own)] + [c["status"] for c in children]),
            "findingCount": len(own) + sum(len(c["findings"]) for c in children), "children": children})
    edges = sorted({(top[r["urn"]], top[d]) for r in resources for d in r.get("dependencies") or []
                    if d in top and top[d] != top[r["urn"]]})
    return {"components": components, "edges": [{"from": a, "to": b} for a, b in edges]}


def build(record: Any, bill: Any, violations: Iterable[Any], lock: Mapping[str, Any] | None, *,
          regions: Mapping[str, str], clouds: Mapping[str, str], lock_path: str | None = None,
          base: Mapping[str, float] | None = None, base_label: str | None = None,
          explanation: Mapping[str, Any] | None = None, explanation_note: str | None = None,
          record_path: str | None = None) -> dict[str, Any]:
    """Everything the page shows, as plain data. ``regions`` / ``clouds``: URN -> region / cloud of each
    resource (newinfra.record.resource_regions, newinfra.props.cloud_of); ``base``: the base branch's bill
    per URN (a base record's or a base lock's), labelled by ``base_label``."""
    findings = sorted((_finding(v) for v in violations),
                      key=lambda f: (STATUSES.index(status_of([f])), f["pack"], f["policy"], f["urn"]))
    urns = {r["urn"] for r in record.resources}
    monthly = {p.urn: p.monthly_usd for p in bill.priced}
    priced = {p.urn: p for p in bill.resources}
    rows = bill_rows(bill, clouds)
    graph_data = graph(record.resources, findings, monthly, regions, clouds)
    status = {c["urn"]: c["status"] for comp in graph_data["components"] for c in comp["children"]}
    status.update({comp["id"]: comp["status"] for comp in graph_data["components"]})
    table = []
    for r in sorted(record.resources, key=lambda r: r["urn"]):
        p = priced.get(r["urn"])
        table.append({"urn": r["urn"], "name": r["name"], "type": r["type"], "parent": r.get("parent") or "",
                      "cloud": clouds.get(r["urn"]) or "", "region": regions.get(r["urn"]) or "",
                      "monthlyUsd": monthly.get(r["urn"]),
                      "priced": "priced" if r["urn"] in monthly else
                      ("unpriced" if p is not None and p.unpriced else "free" if p is not None else "not billed"),
                      "status": status.get(r["urn"], "clean"),
                      "findings": sum(1 for f in findings if f["urn"] == r["urn"])})
    t = bill.totals
    lock_totals = (lock or {}).get("totals") or {}
    return {
        "project": record.project, "stack": record.stack, "record": record_path, "lockFile": lock_path,
        "totals": t.to_dict(),
        "lockTotals": {"monthlyUsd": lock_totals.get("monthlyUsd"), "maxMonthlyUsd": lock_totals.get("maxMonthlyUsd"),
                       "placementsUsdPerMonth": lock_totals.get("placementsUsdPerMonth"),
                       "priceDate": (lock or {}).get("priceDate")} if lock else None,
        "coverage": {"resources": len(record.resources), "priced": len(bill.priced),
                     "unpriced": [{"urn": p.urn, "name": p.name, "reason": p.unpriced} for p in bill.unpriced],
                     "free": len(bill.free)},
        "bill": {"resources": rows, "groups": bill_groups(rows)},
        "change": change(bill, base, base_label),
        "placements": placements(lock, explanation, explanation_note),
        "findings": findings,
        "stackFindings": [f for f in findings if f["urn"] not in urns],
        "counts": {s: sum(1 for f in findings if status_of([f]) == s) for s in STATUSES[:3]},
        "graph": graph_data,
        "table": table,
    }
