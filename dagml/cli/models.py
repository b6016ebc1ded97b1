"""``dagml models list|show|approve|reject``: the local model registry."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from dagml._text import visible
from dagml.local.registry import ModelRegistry, ModelVersion, RegistryValueError, check_group, check_version

#: Metrics shown per row in ``models list`` (the rest are counted).
KEY_METRICS = 3
#: The largest version number the registry can hold (SQLite's INTEGER).
MAX_VERSION = 2**63 - 1


def _group(text: str) -> str:
    try:
        return check_group(text)
    except RegistryValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _version(text: str) -> int:
    message = (
        f"invalid version {text!r}: no model version is numbered so. "
        f"Fix: give a whole number from 1 to {MAX_VERSION} in ASCII digits (see `dagml models list`)."
    )
    if not re.fullmatch(r"[0-9]+", text.strip()) or int(text) > MAX_VERSION:
        raise argparse.ArgumentTypeError(message)
    try:
        return check_version(int(text))
    except RegistryValueError:
        raise argparse.ArgumentTypeError(message) from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home", metavar="DIR", help="dagml state directory (default: $DAGML_HOME, else .dagml)"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser(
        "models",
        help="list, show, approve and reject locally registered model versions",
        description="The local model registry (<home>/registry.db), filled by RegisterModel steps "
        "of local runs. Exit 0 on success, 1 for an unknown group or version, 2 on usage errors.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    ls = actions.add_parser("list", parents=[common], help="model versions as a table (all groups, or one)")
    ls.add_argument("group", metavar="GROUP", nargs="?", type=_group, help="only this model group")
    ls.set_defaults(func=run_list)

    show = actions.add_parser("show", parents=[common], help="everything about one model version")
    show.set_defaults(func=run_show)
    approve = actions.add_parser("approve", parents=[common], help="approve a version (status Approved)")
    approve.set_defaults(func=run_set_status, status="Approved")
    reject = actions.add_parser("reject", parents=[common], help="reject a version (status Rejected)")
    reject.set_defaults(func=run_set_status, status="Rejected")
    for q in (show, approve, reject):
        q.add_argument("group", metavar="GROUP", type=_group, help="model group name")
        q.add_argument("version", metavar="VERSION", type=_version, help="version number (from 1)")


def run_list(args: argparse.Namespace) -> int:
    registry = ModelRegistry(args.home)
    versions = registry.versions(args.group)
    if args.json:
        payload: dict[str, Any] = {"ok": True, "versions": [v.to_dict() for v in versions]}
        if args.group is None:
            payload["groups"] = registry.groups()
        _print_json(payload)
    elif not versions:
        print(
            f"no model versions in {registry.db_path}; a pipeline's RegisterModel step registers one "
            "when it runs locally."
        )
    else:
        print(visible(format_table(versions), newlines=True))
    return 0


def run_show(args: argparse.Namespace) -> int:
    found = ModelRegistry(args.home).get(args.group, args.version)
    if args.json:
        _print_json({"ok": True, "version": found.to_dict()})
    else:
        print(visible(format_version(found), newlines=True))  # metric keys come from user code
    return 0


def run_set_status(args: argparse.Namespace) -> int:
    registry = ModelRegistry(args.home)
    before = registry.get(args.group, args.version)
    after = registry.set_status(args.group, args.version, args.status)
    if args.json:
        _print_json({"ok": True, "previous_status": before.status, "version": after.to_dict()})
    else:
        print(f"{after.group} version {after.version}: {before.status} -> {after.status}")
    return 0


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2, sort_keys=True))


def _number(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _when(stamp: str) -> str:
    """``2024-05-01T12:34:56.789+00:00`` -> ``2024-05-01 12:34:56`` (UTC, as the header says)."""
    return stamp[:19].replace("T", " ")


def key_metrics(version: ModelVersion) -> str:
    """The first few metrics, by name: ``accuracy=0.9667 f1=0.95 (+2 more)``."""
    shown = [f"{k}={_number(v)}" for k, v in list(version.metrics.items())[:KEY_METRICS]]
    rest = len(version.metrics) - KEY_METRICS
    return " ".join(shown) + (f" (+{rest} more)" if rest > 0 else "") or "-"


def format_table(versions: list[ModelVersion]) -> str:
    """One row per version, columns aligned."""
    header = ("GROUP", "VERSION", "STATUS", "METRICS", "PIPELINE", "RUN", "CREATED (UTC)")
    rows = [
        (v.group, str(v.version), v.status, key_metrics(v), v.pipeline, v.run_id, _when(v.created_at))
        for v in versions
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows])


def format_version(v: ModelVersion) -> str:
    """Everything about one version, one fact per line."""
    facts = [
        ("artifact", v.artifact),
        ("pipeline", v.pipeline),
        ("run", v.run_id),
        ("step", v.step),
        ("code hash", v.code_hash),
        ("description", v.description or "-"),
        ("created", v.created_at),
        ("updated", v.updated_at),
    ]
    lines = [f"{v.group} version {v.version}: {v.status}"]
    lines += [f"  {name:<11}  {value}" for name, value in facts]
    lines.append("  metrics:" if v.metrics else "  metrics:    -")
    width = max((len(k) for k in v.metrics), default=0)
    lines += [f"    {k:<{width}}  {value!r}" for k, value in v.metrics.items()]
    return "\n".join(lines)
