"""An existing SageMaker script-mode training script (standard library only): fit y = a x + b.

Reads its ``train`` channel (SM_CHANNEL_TRAIN), takes ``--scale`` as a hyperparameter, writes
model.json to SM_MODEL_DIR; model_fn/predict_fn serve it in the scikit-learn image's script mode.
"""

import argparse
import csv
import glob
import json
import os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f)


def predict_fn(data, model):
    return [[model["a"] * float(row[0]) + model["b"]] for row in data]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    args = parser.parse_args()
    points = []
    for path in sorted(glob.glob(os.path.join(args.train, "*.csv"))):
        with open(path, newline="") as f:
            points += [(float(x), float(y)) for x, y in csv.reader(f)]
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    a = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    model = {"a": a * args.scale, "b": (my - a * mx) * args.scale}
    with open(os.path.join(args.model_dir, "model.json"), "w") as f:
        json.dump(model, f)
    print(f"fit y = {model['a']:.3f} x + {model['b']:.3f} on {n} points")
