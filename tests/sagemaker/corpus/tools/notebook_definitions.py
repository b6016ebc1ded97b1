"""Find the pipeline definitions a Jupyter notebook's saved outputs show.

Not part of dagml's test suite: it is how the ``nb-*`` files in this folder were obtained
(see PROVENANCE.md). A notebook usually shows ``json.loads(pipeline.definition())`` as a
Python dict, so each ``{...}`` block of an output is read as JSON, else as a Python literal
(``ast.literal_eval``: no code runs); a block with a ``Steps`` list is a definition.

    python notebook_definitions.py NOTEBOOK.ipynb ...   # lists them: cell, output, how read, step types
"""

import ast
import json
import sys


def blocks(text):
    """Every top-level ``{...}`` block of ``text``, quotes respected."""
    depth, start, quote, escaped = 0, None, None, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]


def parse(block):
    try:
        return json.loads(block), "json"
    except ValueError:
        pass
    try:
        return ast.literal_eval(block), "python-repr"
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None, None


def scan(path, notebook):
    """``(cell index, output index, how it was read, definition)`` for each definition shown."""
    found = []
    for ci, cell in enumerate(notebook.get("cells", [])):
        for oi, output in enumerate(cell.get("outputs", []) or []):
            texts = ["".join(output["text"])] if "text" in output else []
            data = output.get("data", {})
            if "application/json" in data:
                texts.append(json.dumps(data["application/json"]))
            if "text/plain" in data:
                texts.append("".join(data["text/plain"]))
            for text in texts:
                for block in blocks(text):
                    value, how = parse(block)
                    if isinstance(value, dict) and isinstance(value.get("Steps"), list):
                        found.append((ci, oi, how, value))
    return found


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            notebook = json.load(f)
        for ci, oi, how, value in scan(path, notebook):
            print(path, "cell", ci, "output", oi, how, [s.get("Type") for s in value["Steps"]])
