"""`newinfra report ENV`: one self-contained HTML page of a stack — the whole bill, the placements and why,
the resource graph coloured by policy findings, and a table of everything.

data.py turns record + lock + bill + verdicts into one plain, sorted structure (pure, tested); charts.py draws
its charts as static SVG (Vega-Lite via altair and vl-convert); graph.py lays the resource graph out with
Graphviz `dot`; page.py fills the jinja2 template. The page holds no script and loads nothing: it opens offline.
"""
