"""An existing SageMaker processing script (standard library only): split points into train and test.

Reads every CSV under /opt/ml/processing/input/points (``x,y`` rows, no header) and writes
/opt/ml/processing/output/train/train.csv and /opt/ml/processing/output/test/test.csv, as scripts
written for SageMaker's SKLearnProcessor do.
"""

import argparse
import csv
import glob

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--test-every", type=int, default=4)
    args = parser.parse_args()
    rows = []
    for path in sorted(glob.glob("/opt/ml/processing/input/points/*.csv")):
        with open(path, newline="") as f:
            rows += [r for r in csv.reader(f) if r]
    test = [r for i, r in enumerate(rows) if i % args.test_every == 0]
    train = [r for i, r in enumerate(rows) if i % args.test_every != 0]
    for name, part in (("train", train), ("test", test)):
        with open(f"/opt/ml/processing/output/{name}/{name}.csv", "w", newline="") as f:
            csv.writer(f).writerows(part)
    print(f"split {len(rows)} rows: {len(train)} train, {len(test)} test (every {args.test_every}th)")
