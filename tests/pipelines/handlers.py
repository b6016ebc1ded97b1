"""A model served by its own inference handlers: CSV rows with a word in them in, JSON or CSV out.

The training step fits a price from a colour (a word) and a size. Its handlers parse rows such as
``red,1.5`` (input_fn), round the predictions (predict_fn) and answer JSON when the caller asks for
it, CSV otherwise (output_fn); dagml's default loads the model. A Model, a RegisterModel and a
batch transform all serve it with them.
"""

import csv
import io
import json

from dagml import Pipeline
from dagml.runtime.inference import InferenceError
from dagml.runtime.inference import output_fn as csv_lines

pipe = Pipeline("handlers", description="A model served by its own input, predict and output functions")
prices = pipe.dataset("Prices", local="data/handlers/prices.csv", description="colour,size,price rows")
to_score = pipe.dataset("ToScore", local="data/handlers/to_score.csv", description="colour,size rows to price")

COLOURS = ("red", "green", "blue")


def features(rows):
    """One row of numbers per ``colour,size`` row: the colour one-hot, then the size."""
    out = []
    for number, row in enumerate(rows, 1):
        colour = row[0].strip().lower()
        if colour not in COLOURS:
            raise ValueError(f"row {number}: unknown colour {row[0]!r}; expected one of {', '.join(COLOURS)}")
        out.append([float(colour == c) for c in COLOURS] + [float(row[1])])
    return out


@pipe.step(kind="training")
def train(prices=prices):
    """A linear price per colour and size."""
    from sklearn.linear_model import LinearRegression

    with open(prices) as f:
        rows = [r for r in csv.reader(f) if r]
    return LinearRegression(fit_intercept=False).fit(features(rows), [float(r[2]) for r in rows])


@train.input_fn
def parse(body, content_type):
    """CSV rows ``colour,size``: a word and a number, which dagml's default would refuse."""
    if (content_type or "").split(";")[0].strip() != "text/csv":
        raise InferenceError(f"send text/csv rows of colour,size, not {content_type!r}", status=415)
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    return features([r for r in csv.reader(io.StringIO(text)) if r])


@train.predict_fn
def price(data, model):
    """Prices rounded to the cent."""
    return [round(float(p), 2) for p in model.predict(data)] if data else []


@train.output_fn
def render(prediction, accept):
    """``{"predictions": [...]}`` for application/json; otherwise dagml's CSV lines (406 for other types)."""
    if (accept or "").split(";")[0].strip() == "application/json":
        return json.dumps({"predictions": prediction}), "application/json"
    return csv_lines(prediction, accept)


pricer = pipe.model("PricerModel", model=train)
pipe.register_model(
    "RegisterPricer",
    model=train,
    group="Pricers",
    approval="Approved",
    response_types=["text/csv", "application/json"],
)
pipe.batch_transform("PriceRows", model=pricer, data=to_score)
