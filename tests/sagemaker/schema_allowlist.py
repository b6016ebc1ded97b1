"""The schema's known stale spots, as data: each entry rewrites one construct the
service (and the official SDK) accepts but the April 2025 schema rejects, into a
form the schema validates, so everything else is still checked strictly.

Entries 1-8 are the deviations documented in ../shared/reference/README.md
(the SDK v2.257 and v3.27 output breaks the schema there); entries 9-11 are
constructs the SDK also emits that the same README does not list, found by
this check; entry 13 (Training ContainerEntrypoint) is what dagml needs for SageMaker's
scikit-learn image (see the container contract in docs/sagemaker.md); entry 14 (Std:Join in output
locations) keeps executions apart in S3, as the SDK does by default; docs/sagemaker.md lists all of them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Definition = dict[str, Any]


def _steps(defn: Definition) -> list[dict[str, Any]]:
    out = []

    def walk(steps: list[dict[str, Any]]) -> None:
        for s in steps:
            out.append(s)
            if s.get("Type") == "Condition":
                walk(s["Arguments"].get("IfSteps", []))
                walk(s["Arguments"].get("ElseSteps", []))

    walk(defn.get("Steps", []))
    return out


def _conditions(defn: Definition) -> list[list[dict[str, Any]]]:
    return [s["Arguments"]["Conditions"] for s in _steps(defn) if s.get("Type") == "Condition"]


def drop_experiment_config(d: Definition) -> bool:
    changed = "PipelineExperimentConfig" in d or "MlflowConfig" in d
    d.pop("PipelineExperimentConfig", None)
    d.pop("MlflowConfig", None)
    return changed


def drop_property_files(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        if s.get("Type") == "Processing" and "PropertyFiles" in s:
            del s["PropertyFiles"]
            changed = True
    return changed


def jsonget_in_conditions(d: Definition) -> bool:
    changed = False

    def fix(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, dict) and "Std:JsonGet" in value:
            changed = True
            return {"Get": value["Std:JsonGet"]["PropertyFile"]["Get"] + "." + value["Std:JsonGet"]["Path"]}
        return value

    def walk(cond: dict[str, Any]) -> None:
        for key in ("LeftValue", "RightValue", "QueryValue", "Value"):
            if key in cond:
                cond[key] = fix(cond[key])
        for key in ("Values", "In"):
            if key in cond:
                cond[key] = [fix(v) for v in cond[key]]
        for sub in cond.get("Conditions", []):
            walk(sub)
        if "Condition" in cond:
            walk(cond["Condition"])

    for conds in _conditions(d):
        for cond in conds:
            walk(cond)
    return changed


def join_in_fail_message(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        if s.get("Type") == "Fail" and isinstance(s["Arguments"].get("ErrorMessage"), dict):
            join = s["Arguments"]["ErrorMessage"].get("Std:Join")
            if join is not None:
                s["Arguments"]["ErrorMessage"] = "".join(v if isinstance(v, str) else "<param>" for v in join["Values"])
                changed = True
    return changed


def register_model_fields(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        if s.get("Type") == "RegisterModel":
            args = s["Arguments"]
            for key in ("ModelApprovalStatus", "SkipModelValidation"):
                if key in args:
                    del args[key]
                    changed = True
            for container in args.get("InferenceSpecification", {}).get("Containers", []):
                if container.pop("Environment", None) is not None:
                    changed = True
    return changed


def model_data_url_get(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        if s.get("Type") == "Model":
            container = s["Arguments"].get("PrimaryContainer", {})
            if isinstance(container.get("ModelDataUrl"), dict):
                container["ModelDataUrl"] = "s3://placeholder/model.tar.gz"
                changed = True
    return changed


def not_conditions(d: Definition) -> bool:
    changed = False

    def rewrite(cond: dict[str, Any]) -> dict[str, Any]:
        nonlocal changed
        if cond.get("Type") == "Not":
            changed = True
            inner = rewrite(cond["Condition"])
            if inner.get("Type") == "Equals":
                return {**inner, "Type": "NotEquals"}
            return inner  # validate what is negated
        if cond.get("Type") == "Or" and any(c.get("Type") in ("Not", "Or") for c in cond["Conditions"]):
            changed = True
        if cond.get("Type") == "Or":
            flat: list[dict[str, Any]] = []
            for c in cond["Conditions"]:
                r = rewrite(c)
                # Not(Or(...)) nested in Or, which is how and-inside-or is expressed, reads as
                # an Or of its terms once the Not is set aside: still every leaf is validated.
                flat.extend(r["Conditions"] if r.get("Type") == "Or" else [r])
            return {**cond, "Conditions": flat}
        return cond

    for s in _steps(d):
        if s.get("Type") == "Condition":
            s["Arguments"]["Conditions"] = [rewrite(c) for c in s["Arguments"]["Conditions"]]
    return changed


def model_steps_in_branches(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        if s.get("Type") == "Condition":
            for key in ("IfSteps", "ElseSteps"):
                models = [x for x in s["Arguments"].get(key, []) if x.get("Type") == "Model"]
                if models:
                    changed = True
                    s["Arguments"][key] = [x for x in s["Arguments"][key] if x.get("Type") != "Model"]
                    d["Steps"].extend(models)  # still validated, as top-level CreateModel steps
    return changed


def string_enum_values(d: Definition) -> bool:
    changed = False
    for p in d.get("Parameters", []):
        if "EnumValues" in p:
            del p["EnumValues"]
            changed = True
    return changed


def in_conditions(d: Definition) -> bool:
    """In -> Or of Equals: the same decision, with every value still validated."""
    changed = False

    def rewrite(cond: dict[str, Any]) -> dict[str, Any]:
        nonlocal changed
        if cond.get("Type") == "In" and "QueryValue" in cond:
            changed = True
            return {
                "Type": "Or",
                "Conditions": [{"Type": "Equals", "LeftValue": cond["QueryValue"], "RightValue": v} for v in cond["Values"]],
            }
        if cond.get("Type") == "Or":
            flat: list[dict[str, Any]] = []
            for c in cond["Conditions"]:
                r = rewrite(c)
                flat.extend(r["Conditions"] if r.get("Type") == "Or" and c.get("Type") == "In" else [r])
            return {**cond, "Conditions": flat}
        if "Condition" in cond:
            return {**cond, "Condition": rewrite(cond["Condition"])}
        return cond

    for s in _steps(d):
        if s.get("Type") == "Condition":
            s["Arguments"]["Conditions"] = [rewrite(c) for c in s["Arguments"]["Conditions"]]
    return changed


def retry_exception_lists(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        policies = s.get("RetryPolicies")
        if policies and any(isinstance(p.get("ExceptionType"), list) for p in policies):
            s["RetryPolicies"] = [{**p, "ExceptionType": e} for p in policies for e in p["ExceptionType"]]
            changed = True
    return changed


def typed_params_as_strings(d: Definition) -> bool:
    """{"Std:Join": {"On": "", "Values": [Get]}} in job arguments and hyperparameters -> the Get."""
    changed = False

    def unwrap(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, dict) and set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            if join.get("On") == "" and len(join.get("Values", [])) == 1 and isinstance(join["Values"][0], dict):
                changed = True
                return join["Values"][0]
        return value

    for s in _steps(d):
        args = s.get("Arguments", {})
        app = args.get("AppSpecification", {})
        if "ContainerArguments" in app:
            app["ContainerArguments"] = [unwrap(v) for v in app["ContainerArguments"]]
        if "HyperParameters" in args:
            args["HyperParameters"] = {k: unwrap(v) for k, v in args["HyperParameters"].items()}
    return changed


#: (name, reason, rewrite). A rewrite returns True when it changed something.
def training_container_entrypoint(d: Definition) -> bool:
    changed = False
    for s in _steps(d):
        if s.get("Type") == "Training":
            algorithm = s["Arguments"].get("AlgorithmSpecification", {})
            if algorithm.pop("ContainerEntrypoint", None) is not None:
                changed = True
    return changed


def execution_locations(d: Definition) -> bool:
    """A Std:Join where the schema wants a string S3 location -> a placeholder string."""
    changed = False

    def flat(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, dict) and set(value) == {"Std:Join"}:
            changed = True
            return "s3://bucket/joined/per/execution"
        return value

    for s in _steps(d):
        args = s.get("Arguments", {})
        for output in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
            output["S3Output"]["S3Uri"] = flat(output["S3Output"]["S3Uri"])
        for key, holder in (("OutputDataConfig", "S3OutputPath"), ("TransformOutput", "S3OutputPath")):
            if key in args:
                args[key][holder] = flat(args[key][holder])
        statistics = args.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics")
        if statistics:
            statistics["S3Uri"] = flat(statistics["S3Uri"])
    return changed


ALLOWLIST: list[tuple[str, str, Callable[[Definition], bool]]] = [
    ("PipelineExperimentConfig", "top-level key the SDK emits and the service accepts; not in the schema", drop_experiment_config),
    ("Processing PropertyFiles", "needed for Std:JsonGet in conditions; not in the schema", drop_property_files),
    ("Std:JsonGet in conditions", "the schema's argument-value types lack Std:JsonGet", jsonget_in_conditions),
    ("Std:Join as Fail ErrorMessage", "the schema wants a plain string; the SDK joins params into it", join_in_fail_message),
    ("RegisterModel fields", "ModelApprovalStatus, SkipModelValidation and container Environment are missing from the schema", register_model_fields),
    ("CreateModel ModelDataUrl as Get", "the schema wants a string; the model artifact is only known at run time", model_data_url_get),
    (
        "Not conditions",
        "the SDK emits Not (Not(Equals) for !=) and nests Or in Not/Or (how and-inside-or is written); "
        "the schema has only NotEquals and a flat Or",
        not_conditions,
    ),
    ("Model steps in branches", "the schema allows 5 step types in IfSteps/ElseSteps; the SDK also nests Model steps", model_steps_in_branches),
    ("String EnumValues", "the SDK emits EnumValues for String parameters (ParameterString(enum_values=...)); not in the schema", string_enum_values),
    (
        "In conditions",
        "the SDK emits In as QueryValue/Values where the schema says Value/In, and the schema's oneOf makes "
        "any Get or integer value match several types, so no In reading a property can validate",
        in_conditions,
    ),
    (
        "Typed params as strings",
        "the service refuses an Integer/Float/Boolean reference in a string field (aws/sagemaker-python-sdk#4867), "
        "so job arguments and hyperparameters join it into a string (the SDK's to_string()); the schema has no Std:Join",
        typed_params_as_strings,
    ),
    ("RetryPolicies ExceptionType list", "the SDK emits a list of exception types per policy; the schema wants one string", retry_exception_lists),
    (
        "Training ContainerEntrypoint",
        "CreateTrainingJob's AlgorithmSpecification.ContainerEntrypoint (API reference); SDK v3's ModelTrainer "
        "emits it for every training step with source_code, and so does its remote-function @step; "
        "not in the schema",
        training_container_entrypoint,
    ),
    (
        "Std:Join in output locations",
        "per-execution S3 locations (processing outputs, training OutputDataConfig, transform output, "
        "ModelMetrics): SDK v3 joins Execution.PipelineExecutionId into every default output location "
        "(sagemaker/core/processing.py, transformer.py) and the service runs it; the schema wants strings",
        execution_locations,
    ),
]


def normalize(definition: Definition) -> tuple[Definition, set[str]]:
    """Apply every allow-list rewrite; return the result and the names of those that applied."""
    d = copy.deepcopy(definition)
    used = {name for name, _, rewrite in ALLOWLIST if rewrite(d)}
    return d, used
