"""Named outputs (files and a returned value), a chosen destination, raw S3 inputs with delivery
options, and a batch transform over a named output."""

from dagml import Output, Pipeline

pipe = Pipeline("dataflow", description="Named outputs and raw inputs compile to their own locations")
exports = pipe.param("ExportUri", "s3://example-bucket/exports/summary")
rows = pipe.dataset("RawRows", local="data/dataflow/rows.csv", s3="s3://example-bucket/dataflow/rows.csv")
shards = pipe.dataset(
    "Shards",
    local="data/dataflow/shards",
    s3="s3://example-bucket/dataflow/shards/",
    input_mode="FastFile",
    distribution="ShardedByS3Key",
)


@pipe.step(outputs=["features", "holdout", Output("summary", s3=exports)])
def split(outputs, raw=rows):
    """Training rows (x, y) and holdout inputs (x) as CSV files; the row count as a value."""
    table = [[float(v) for v in line.split(",")] for line in open(raw).read().split()]
    (outputs["features"] / "features.csv").write_text("".join(f"{x},{y}\n" for x, y in table[:-2]))
    (outputs["holdout"] / "holdout.csv").write_text("".join(f"{x}\n" for x, _ in table[-2:]))
    return {"summary": {"rows": len(table)}}


@pipe.step(kind="training")
def fit(features=split.outputs["features"], extra=shards):
    """A line through the features; the shards only count (they arrive as a directory)."""
    import os

    from sklearn.linear_model import LinearRegression

    with open(os.path.join(features, "features.csv")) as f:
        pairs = [[float(v) for v in line.split(",")] for line in f.read().split()]
    print("shards:", sorted(os.listdir(extra)))
    return LinearRegression().fit([[x] for x, _ in pairs], [y for _, y in pairs])


@pipe.step
def describe(fit, summary=split.outputs["summary"]):
    """What was fitted on how many rows."""
    return {"rows": summary["rows"], "slope": round(float(fit.coef_[0]), 6)}


pipe.batch_transform("ScoreHoldout", model=fit, data=split.outputs["holdout"])
