"""Content types, training channels and DMatrix loading of the built-in XGBoost algorithm.

Mirrors ``src/sagemaker_xgboost_container/data_utils.py`` and
``algorithm_mode/channel_validation.py`` of aws/sagemaker-xgboost-container (master),
File mode: a channel's files are checked (CSV: a delimiter can be sniffed from each
file's first line; LIBSVM: the first line with features looks like LIBSVM), linked
into one directory and read by XGBoost's own text parser
(``<dir>?format=csv&label_column=0``), parquet through pyarrow. The links go to
the image's fixed ``/tmp/sagemaker_xgboost_input_data``, emptied first (the bed's
jobs share the machine's /tmp and run one at a time). Recordio-protobuf data and
Pipe mode fail with a clear error.
"""

import csv
import logging
import os
import shutil

import xgboost as xgb

from sagemaker_xgboost_container.toolkit import Channel, Channels, UserError

CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF = "csv", "libsvm", "parquet", "recordio-protobuf"
#: Every spelling a channel's ContentType may take, in the image's order (its error message lists them).
VALID_CONTENT_TYPES = [
    CSV,
    LIBSVM,
    PARQUET,
    RECORDIO_PROTOBUF,
    "text/csv",
    "text/libsvm",
    "text/x-libsvm",
    "application/x-parquet",
    "application/x-recordio-protobuf",
]
VALID_PIPED_CONTENT_TYPES = [
    CSV,
    PARQUET,
    RECORDIO_PROTOBUF,
    "text/csv",
    "application/x-parquet",
    "application/x-recordio-protobuf",
]
_KINDS = {
    CSV: CSV,
    "text/csv": CSV,
    LIBSVM: LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    PARQUET: PARQUET,
    "application/x-parquet": PARQUET,
    RECORDIO_PROTOBUF: RECORDIO_PROTOBUF,
    "application/x-recordio-protobuf": RECORDIO_PROTOBUF,
}
_NAMES = {CSV: "CSV", LIBSVM: "LIBSVM", PARQUET: "Parquet", RECORDIO_PROTOBUF: "RecordIO-Protobuf"}


def parse_header(value):
    """``"text/csv; label_size=1"`` -> ``("text/csv", {"label_size": "1"})`` (lower-cased, as the image reads it)."""
    kind, *params = (part.strip() for part in value.lower().split(";"))
    return kind, dict(p.split("=", 1) for p in params if "=" in p)


def get_content_type(value):
    """The kind of data a ContentType names (``csv``, ``libsvm``, ...); none given means LIBSVM."""
    if value is None:
        return LIBSVM
    kind, params = parse_header(value)
    if kind not in _KINDS:
        raise UserError(f"{value} is not an accepted ContentType: {', '.join(VALID_CONTENT_TYPES)}.")
    if _KINDS[kind] == CSV and params.get("label_size", "1") != "1":
        raise UserError(
            f"{value} is not an accepted csv ContentType. Optional parameter label_size must be equal to 1"
        )
    return _KINDS[kind]


def channels():
    """``train`` (required), ``validation`` and ``code``; a channel without ContentType is LIBSVM.

    Pipe mode passes validation for the types the image could pipe, then fails when loading.
    """
    data = [
        Channel(name, name == "train").add(VALID_CONTENT_TYPES, "File").add(VALID_PIPED_CONTENT_TYPES, "Pipe")
        for name in ("train", "validation")
    ]
    code = Channel("code", False).add(["text/python"], "File")
    return Channels(*data, code, default_content_type="text/libsvm")


def get_size(path):
    """Bytes of data under ``path`` (0 when missing); a hidden file is the user's mistake."""
    if not os.path.exists(path):
        logging.info(f"Path {path} does not exist!")
        return 0
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            if name.startswith("."):
                raise UserError("Hidden file found in the data path! Remove that before training.")
            total += os.path.getsize(os.path.join(root, name))
    return total


def _data_files(path):
    if os.path.isfile(path):
        return [path]
    leaf = next(root for root, dirs, _ in os.walk(path) if not dirs)
    return [
        os.path.join(leaf, name)
        for name in sorted(os.listdir(leaf))
        if os.path.isfile(os.path.join(leaf, name)) and not name.startswith((".", "_"))
    ]


def _delimiter(line):
    try:
        delimiter = csv.Sniffer().sniff(line).delimiter
    except Exception as e:
        raise UserError(f"Could not determine delimiter on line {line[:50]}:\n{e}") from e
    logging.info(f"Determined delimiter of CSV input is '{delimiter}'")
    return delimiter


def _looks_like_libsvm(line):
    """-1 when ``line`` is not LIBSVM (``<label>[:<weight>] <index>:<value> ...``), else its number of features."""
    label, *features = line.rstrip("\n").split(" ")
    try:
        if len(label.split(":")) > 2:
            return -1
        [float(part) for part in label.split(":")]
    except ValueError:
        return -1
    if any(":" not in f or len(f.split(":")) != 2 for f in features):
        return -1
    return len(features)


def validate_data_file_path(path, content_type):
    kind = get_content_type(content_type)
    if not os.path.exists(path):
        raise UserError(f"{path} is not a valid path!")
    for name in _data_files(path):
        with open(name, errors="ignore") as f:
            if kind == CSV:
                _delimiter(f.readline())
            elif kind == LIBSVM:
                for line in f:
                    features = _looks_like_libsvm(line)
                    if features < 0:
                        raise UserError(
                            f"First line '{line[:50]}...' of file '{os.path.basename(name)}' is not 'LIBSVM' format. "
                            "Please ensure the file is in 'LIBSVM' format."
                        )
                    if features > 1:
                        break


def _linked(path):
    """A directory holding a link to every file under ``path`` (up to three levels), as XGBoost wants them."""
    logging.info(f"File path {path} of input files")
    directory = "/tmp/sagemaker_xgboost_input_data"
    shutil.rmtree(directory, ignore_errors=True)
    os.mkdir(directory)
    for root, _, files in os.walk(path):
        if root[len(path) :].count(os.sep) >= 3:
            continue
        for name in sorted(files):
            source = os.path.join(root, name)
            os.symlink(source, os.path.join(directory, name + str(abs(hash(source)))))
    if os.path.isfile(path):
        os.symlink(path, os.path.join(directory, os.path.basename(path)))
    return directory


def get_dmatrix(path, kind, csv_weights=0, is_pipe=False):
    """The DMatrix of a channel's data; the label is the first column (CSV, parquet) or field (LIBSVM)."""
    if is_pipe:
        raise UserError(
            f"Pipe mode for {_NAMES[kind]} is no longer supported. Please use Fast File mode (default) instead. "
            "Set input_mode='File' in your SageMaker Estimator or TrainingInput."
        )
    if kind == RECORDIO_PROTOBUF:
        raise UserError(
            "the container test bed's XGBoost glue leaves out recordio-protobuf data; use text/csv."
        )
    files = _linked(path)
    logging.info(f"files path: {files}")
    try:
        if kind == CSV:
            with open(_data_files(files)[0]) as f:
                delimiter = _delimiter(f.readline())
            weights = "&weight_column=1" if csv_weights == 1 else ""
            dmatrix = xgb.DMatrix(f"{files}?format=csv&label_column=0&delimiter={delimiter}{weights}")
        elif kind == LIBSVM:
            dmatrix = xgb.DMatrix(f"{files}?format=libsvm")
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(files).to_pandas().to_numpy()
            dmatrix = xgb.DMatrix(table[:, 1:], label=table[:, 0])
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"Failed to load {kind} data with exception:\n{e}") from e
    if dmatrix.get_label().size == 0:
        raise UserError(
            "Got input data without labels. Please check the input data set. If training job is running on "
            "multiple instances, please switch to using single instance if number of records in the data set is "
            "less than number of workers (16 * number of instance) in the cluster."
        )
    return dmatrix


def check_data_redundancy(train_path, validation_path):
    """Warn about files of the same name and size in both channels."""
    for name in sorted(set(os.listdir(train_path)) & set(os.listdir(validation_path))):
        a, b = os.path.join(train_path, name), os.path.join(validation_path, name)
        if os.path.isfile(a) and os.path.isfile(b) and os.path.getsize(a) == os.path.getsize(b):
            logging.warning(
                f"Suspected identical files found. ({a} and {b}with same size {os.path.getsize(b)} bytes). "
                "Note: Duplicate data in the training set and validation set is usually not intentional and can "
                "impair the validity of the model evaluation by the validation score."
            )
