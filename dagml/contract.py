"""The contract between the compiled pipeline definition and the step runtime.

The compiler (:mod:`dagml.sagemaker`) writes these names and paths into the
definition; the runtime (:mod:`dagml.runtime.entry`) reads them inside the
container. Both import them from here, so they cannot drift apart.

Container file system (``root`` is ``/opt/ml`` on SageMaker; the environment
variable ``DAGML_CONTAINER_ROOT`` points it elsewhere for tests and local runs):

Processing job (``AppSpecification.ContainerEntrypoint`` =
``["python3", "<root>/processing/input/code/dagml_entry.py"]``, arguments
``--mode processing --target T --step S [--param NAME=VALUE]...``):

- ``<root>/processing/input/code/``: the code bundle prefix: ``dagml_entry.py``
  (bootstrap) and ``sourcedir.tar.gz`` (dagml + the user's code);
- ``<root>/processing/input/<parameter>/``: one input per function parameter
  bound to a step or dataset (the parameter name is the ProcessingInput name);
- ``<root>/processing/output/``: the step's return value (``output.pkl``);
- ``<root>/processing/outputs/<name>/``: each named output of a step declared
  with ``outputs=[...]`` (the files the function wrote there, or ``output.pkl``
  holding the value it returned under that name); the ProcessingOutput is named
  ``<name>``, and such a step has no ``output/``;
- ``<root>/processing/metrics/evaluation.json``: a metrics step's report, the
  ``PropertyFile`` conditions read with ``Std:JsonGet`` (path = metric key).

Training job (script mode of SageMaker's framework containers: the toolkit
extracts ``sourcedir.tar.gz`` and runs ``dagml_entry.py``):

- ``<root>/input/config/hyperparameters.json``: ``dagml_mode`` ("training"),
  ``dagml_target``, ``dagml_step`` and one entry per bound pipeline param,
  keyed by the param's name (values arrive as strings);
- ``<root>/input/data/<parameter>/``: one channel per bound step or dataset;
- ``<root>/model/model.pkl``: the function's return value, the model
  (SageMaker uploads ``<root>/model`` as ``model.tar.gz``).

Model / RegisterModel / Transform containers load ``dagml_inference.py``
(``SAGEMAKER_PROGRAM``) from the bundle (``SAGEMAKER_SUBMIT_DIRECTORY``): CSV
rows in, one CSV line of predictions per row out.
"""

from __future__ import annotations

#: Where SageMaker mounts a job's files.
DEFAULT_ROOT = "/opt/ml"
ROOT_ENV = "DAGML_CONTAINER_ROOT"

#: Files at the root of the code bundle.
BUNDLE_NAME = "sourcedir.tar.gz"
ENTRY_SCRIPT = "dagml_entry.py"
INFERENCE_SCRIPT = "dagml_inference.py"

#: Processing layout (relative to the root).
PROCESSING_CODE_DIR = "processing/input/code"
PROCESSING_INPUT_DIR = "processing/input"  # + "/<parameter>"
PROCESSING_OUTPUT_DIR = "processing/output"
PROCESSING_OUTPUTS_DIR = "processing/outputs"  # + "/<output name>"
#: A processing script's outputs (``pipe.script``): SageMaker's own convention, ``+ "/<output name>"``.
SCRIPT_OUTPUT_DIR = "processing/output"
PROCESSING_METRICS_DIR = "processing/metrics"

#: Training layout (relative to the root).
HYPERPARAMETERS_FILE = "input/config/hyperparameters.json"
TRAINING_CHANNEL_DIR = "input/data"  # + "/<parameter>"
MODEL_DIR = "model"

#: Artifact files.
OUTPUT_FILE = "output.pkl"
MODEL_FILE = "model.pkl"
METRICS_FILE = "evaluation.json"

#: Names in the definition.
OUTPUT_NAME = "output"  # ProcessingOutput of a step's return value
METRICS_OUTPUT_NAME = "metrics"  # ProcessingOutput holding evaluation.json
PROPERTY_FILE_NAME = "EvaluationReport"  # PropertyFile conditions read

#: Hyperparameter keys of a training step.
HP_MODE, HP_TARGET, HP_STEP = "dagml_mode", "dagml_target", "dagml_step"

#: A processing step whose output a batch transform reads also writes its
#: return value (rows of numbers) as CSV, no header, to this output.
CSV_OUTPUT_NAME = "csv"
PROCESSING_CSV_DIR = "processing/csv"
CSV_FILE = "data.csv"

#: Inside the container, the processing code input's name (SageMaker's convention).
CODE_INPUT_NAME = "code"

#: Why a job failed (relative to the root): SageMaker reads ``/opt/ml/output/failure`` as a
#: training job's ``FailureReason`` ("How Amazon SageMaker AI Processes Training Output",
#: https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html).
#: The step runtime writes it for every job; the local runner reads it as the step's error.
FAILURE_FILE = "output/failure"
#: A processing job's ``ExitMessage`` (relative to the root): SageMaker keeps the first 1 KB of
#: ``/opt/ml/output/message`` ("Save and Access Metadata Information About Your Processing Job",
#: https://docs.aws.amazon.com/sagemaker/latest/dg/byoc-metadata.html).
MESSAGE_FILE = "output/message"

#: A step's extra packages (``requirements=``), as wheels resolved at compile time: the processing
#: input / training channel that delivers them, and, in it, the list of wheel files to install
#: (docs/sagemaker.md, "Step environments"). A training job copies them into its model directory,
#: so a model that needs them carries them to every container that serves it.
WHEELS_INPUT_NAME = "dagml-wheels"
WHEELS_LIST = "dagml-requirements.txt"
#: Where the bootstrap looks for them, relative to the root: processing, training, serving.
WHEELS_DIRS = ("processing/input/dagml-wheels", "input/data/dagml-wheels", "model/dagml-wheels")
