"""Mermaid flowcharts: the same scene as the DOT drawing, read back line by line."""

from __future__ import annotations

import os
import re

from dagml import Pipeline
from dagml.drawing import render, to_mermaid
from dagml.drawing.legend import MERMAID_ROW
from dagml.drawing.style import EDGE_STYLES, KIND_STYLES
from dagml.spec.target import load_target

from .conftest import PIPELINES

NODE = re.compile(r'^\s*(?P<id>\w+)(?P<open>[\[\(\{>/\\]+)"(?P<label>[^"]*)"(?P<close>[\]\)\}/\\]+):::(?P<cls>\w+)$')
EDGE = re.compile(r'^\s*(?P<a>\w+) (?P<arrow>-->|-\.->|==>)(?:\|"(?P<label>[^"]*)"\|)? (?P<b>\w+)$')


def parse(text: str) -> tuple[dict[str, dict[str, str]], list[dict[str, str]], dict[str, set[str]]]:
    """Nodes by id, edges, and subgraph id -> member ids."""
    nodes, edges, groups = {}, [], {}
    current = None
    for line in text.splitlines():
        if m := NODE.match(line):
            nodes[m["id"]] = m.groupdict()
            if current:
                groups[current].add(m["id"])
        elif m := EDGE.match(line):
            edges.append(m.groupdict())
        elif m := re.match(r"^\s*subgraph (\w+)", line):
            current = m[1]
            groups[current] = set()
        elif line.strip() == "end":
            current = None
    return nodes, edges, groups


def title(label: str) -> str:
    return re.match(r"<b>(.*?)</b>", label)[1]


def test_every_step_has_its_kinds_shape_and_class(iris_graph):
    text = to_mermaid(iris_graph)
    assert text.startswith('---\ntitle: "iris-classifier: Train, gate on accuracy, register, batch-score"\n---\nflowchart TB\n')
    nodes, _, _ = parse(text)
    steps = {title(n["label"]): n for n in nodes.values() if n["id"].startswith("s_")}
    assert set(steps) == set(iris_graph.nodes)
    for name, node in steps.items():
        kind = iris_graph[name].kind
        assert (node["open"], node["close"]) == KIND_STYLES[kind].mermaid
        assert node["cls"] == kind
    assert "evaluate.accuracy #62;= AccuracyThreshold (0.9)" in steps["CheckAccuracy"]["label"].replace("</small><br/><small>", " ")


def test_branches_are_subgraphs_the_condition_points_at(iris_graph):
    nodes, edges, groups = parse(to_mermaid(iris_graph))
    names = {n["id"]: title(n["label"]) for n in nodes.values() if n["id"].startswith("s_")}
    branches = {g: {names[i] for i in ids} for g, ids in groups.items() if g != "legend"}
    assert branches == {
        "x_branch_then_CheckAccuracy": {"RegisterModel", "BatchTransformModel", "BatchTransform"},
        "x_branch_otherwise_CheckAccuracy": {"AccuracyTooLow"},
    }
    out = {(e["label"], e["b"]) for e in edges if e["a"] == "s_CheckAccuracy"}
    assert out == {("then", "x_branch_then_CheckAccuracy"), ("otherwise", "x_branch_otherwise_CheckAccuracy")}


def test_after_edges_are_dotted_and_data_edges_solid():
    graph = load_target(os.path.join(PIPELINES, "options.py")).validate()
    _, edges, _ = parse(to_mermaid(graph, legend=False))
    arrows = {(e["a"], e["b"]): e["arrow"] for e in edges}
    assert arrows[("s_audit", "s_publish")] == "-.->"
    assert arrows[("s_load", "s_fit")] == "-->"


def test_params_as_nodes_and_link_styles_for_every_edge(iris_graph):
    text = to_mermaid(iris_graph, params=True, legend=False)
    nodes, edges, _ = parse(text)
    assert nodes["p_AccuracyThreshold"]["open"] == "(["
    assert nodes["d_ScoringData"]["open"] == "[("
    assert len(re.findall(r"^  linkStyle \d+ ", text, re.M)) == len(edges)


def test_user_text_is_escaped():
    pipe = Pipeline("quotes", description='say "hi" <b>bold</b> & more #1')
    pipe.step(name="only")(lambda: None)
    text = to_mermaid(pipe.validate())
    assert 'title: "quotes: say \\"hi\\" <b>bold</b> & more #1"' in text  # YAML string: JSON quoting
    nodes, _, _ = parse(text)
    assert nodes["s_only"]["cls"] == "processing"


def test_markdown_wraps_the_flowchart_in_a_mermaid_block(tmp_path, iris_graph):
    path = tmp_path / "iris.md"
    render(iris_graph, path)
    text = path.read_text()
    assert text.startswith("# iris-classifier\n\nTrain, gate on accuracy, register, batch-score\n\n```mermaid\n---\n")
    assert text.endswith("```\n")
    assert text.count("```") == 2


def test_mermaid_is_deterministic(iris_graph):
    assert to_mermaid(iris_graph) == to_mermaid(iris_graph, params=False, legend=True)


def _legend(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index('  subgraph legend["Legend"]')
    return lines[start : lines.index("  end", start) + 1]


def test_the_legend_is_a_short_grid_of_what_the_drawing_uses(iris_graph):
    text = to_mermaid(iris_graph)
    legend = _legend(text)
    assert legend[1] == "    direction LR"  # rows run left to right
    kinds = re.findall(r"x_legend_kind_(\w+)[\[\(\{>/\\]", "\n".join(legend))
    assert set(kinds) == {spec.kind for spec in iris_graph} and len(kinds) == len(set(kinds))
    # rows of at most MERMAID_ROW samples, chained by invisible links: no row as wide as the whole list
    chains = [line.split(" ~~~ ") for line in legend if " ~~~ " in line]
    assert chains and all(len(pair) == 2 for pair in chains)
    rows, by_left = [], {a.strip(): b for a, b in chains}
    for start in {a.strip() for a, _ in chains} - set(by_left.values()):
        row = [start]
        while row[-1] in by_left:
            row.append(by_left[row[-1]])
        rows.append(row)
    assert max(len(row) for row in rows) <= MERMAID_ROW and len(kinds) > MERMAID_ROW
    assert "x_legend_status" not in text  # no run, no statuses


def test_the_legends_line_samples_are_styled_by_their_own_link_index(iris_graph):
    """Mermaid numbers every link, invisible ones too: each sample line gets the style of its kind."""
    text = to_mermaid(iris_graph)
    links = [line for line in text.splitlines() if re.search(r" (-->|-\.->|==>|~~~)[ |]", line)]
    styles = dict(re.findall(r"^  linkStyle (\d+) (.*)$", text, re.M))
    for kind in ("data", "then", "otherwise"):
        index = next(i for i, line in enumerate(links) if f"x_legend_edge_{kind}[" in line)
        assert styles[str(index)] == f"stroke:{EDGE_STYLES[kind].color},stroke-width:{EDGE_STYLES[kind].penwidth:g}px"
    assert all(str(i) not in styles for i, line in enumerate(links) if " ~~~ " in line)


def test_a_runs_mermaid_legend_shows_its_statuses():
    pipe = Pipeline("one")
    pipe.step(name="only")(lambda: None)
    legend = "\n".join(_legend(to_mermaid(pipe.validate(), run={"only": "failed"})))
    assert ":::status_failed" in legend and ":::neutral" in legend and "status_succeeded" not in legend
    assert "legend" not in to_mermaid(pipe.validate(), legend=False)
