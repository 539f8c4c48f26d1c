"""``trustops explain`` and ``trustops reasons``: explanations and adverse-action reason codes
for a model file on your own machine.

Both load the model with joblib (or pickle), which runs code from the file:
load only files you trust. trustops never loads a model uploaded to it. With
``--record NAME@VERSION`` the result is stored as evidence on that registered
version, after checking that the file's SHA-256 equals the registered artifact's.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from trustops.cli import app
from trustops.errors import InputError, UsageError

__all__ = ["explain_command", "reasons_command"]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class Method(StrEnum):
    auto = "auto"
    tree = "tree"
    linear = "linear"
    permutation = "permutation"
    kernel = "kernel"
    lime = "lime"


class Favourable(StrEnum):
    high = "high"
    low = "low"


class Baseline(StrEnum):
    all = "all"
    approved = "approved"


LOADS_CODE = "a joblib or pickle file; loading it runs its code, so load only your own files"


@contextmanager
def _recording(ctx: typer.Context, ref: str | None, sha256: str) -> Iterator[tuple[Any, Any]]:
    """The registry and model version for ``--record``, after the artifact hash check."""
    if ref is None:
        yield None, None
        return
    from trustops.cli.registry import registry_from

    with registry_from(ctx) as reg:
        mv = reg.model(ref)
        if mv.artifact_hash != sha256:
            raise InputError(
                f"the model file's sha256 {sha256} is not the registered artifact of "
                f"{mv.ref} ({mv.artifact_hash})",
                hint="pass the file that was registered, or register this one",
            )
        yield reg, mv


def _sample(table: Any, rows: int, seed: int) -> Any:
    import numpy as np

    if rows <= 0 or table.num_rows <= rows:
        return table
    chosen = np.random.default_rng(seed).choice(table.num_rows, rows, replace=False)
    return table.take(np.sort(chosen))


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from trustops.engines.files import write_text

    write_text(output, text if text.endswith("\n") else text + "\n")


def _render(*tables: Any, to_file: bool) -> str:
    console = Console(record=True, width=140, file=io.StringIO()) if to_file else None
    for table in tables:
        if console is None:
            Console().print(table)
        else:
            console.print(table)
    return console.export_text() if console is not None else ""


def _as_of(text: str | None) -> str:
    if text is None:
        when = datetime.now(UTC)
    else:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(f"--as-of must be an ISO 8601 time, got {text!r}") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _model_info(path: Path, sha256: str, mv: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"file": path.name, "sha256": sha256}
    if mv is not None:
        info["version"] = f"{mv.system}/{mv.ref}"
    return info


@app.command("explain")
def explain_command(
    ctx: typer.Context,
    model: Annotated[Path, typer.Option("--model", help=f"The model: {LOADS_CODE}.")],
    data: Annotated[Path, typer.Option("--data", help="The rows to explain (CSV/Parquet).")],
    target: Annotated[
        str | None, typer.Option("--target", help="The label column, not a feature.")
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="A column that is not a feature (repeatable)."),
    ] = None,
    sensitive: Annotated[
        list[str] | None,
        typer.Option("--sensitive", help="Show importance per group of this column (repeatable)."),
    ] = None,
    method: Annotated[
        Method, typer.Option("--method", help="auto, tree, linear, permutation, kernel or lime.")
    ] = Method.auto,
    background_rows: Annotated[
        int,
        typer.Option(
            "--background-rows",
            help="Rows sampled from the data as the baseline (0: none; trees then path-dependent).",
        ),
    ] = 100,
    budget: Annotated[
        int, typer.Option("--budget", help="Model evaluations per row (sampling explainers).")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seeds sampling.")] = 0,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the output to this file.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a bar chart of the importance (SVG).")
    ] = None,
    proxies: Annotated[
        bool,
        typer.Option(
            "--proxies",
            help="With --sensitive: find the features that stand in for each sensitive column "
            "and matter to the model.",
        ),
    ] = False,
    record: Annotated[
        str | None,
        typer.Option(
            "--record",
            help="Record the explanation (and the proxies) as evidence on NAME@VERSION.",
        ),
    ] = None,
) -> None:
    """Explain a model file on a data file: global importance, and per group with --sensitive.

    Loading the model runs code from the file: load only your own files.

    Example: trustops explain --model model.joblib --data applicants.csv --target approved \
--sensitive race
    """
    from trustops.engines.files import read_table, write_text
    from trustops.explain import explain
    from trustops.notices import file_sha256, load_model, model_features

    if background_rows < 0:
        raise UsageError("--background-rows must be 0 or more")
    if proxies and not sensitive:
        raise UsageError("--proxies needs --sensitive: the protected column(s) to look for")
    sha256 = file_sha256(model)
    with _recording(ctx, record, sha256) as (reg, mv):
        fitted = load_model(model)
        table = read_table(data)
        exclude = [c for c in [target, *(drop or []), *(sensitive or [])] if c]
        for column in exclude:
            if column not in table.column_names:
                raise InputError(f"column {column!r} is not in {data.name}")
        features = model_features(fitted, table.column_names, exclude=exclude)
        rows = table.select(list(features.names))
        background = _sample(rows, background_rows, seed) if background_rows else None
        with Console(stderr=True).status(f"Explaining {model.name} on {data.name}…"):
            result = explain(
                fitted,
                rows,
                background=background,
                method=method.value,
                budget=budget,
                seed=seed,
                feature_names=list(features.names),
            )
            for column in sensitive or []:
                result.by_group(table.column(column), name=column)
        content = {
            **result.to_dict(),
            "model": _model_info(model, sha256, mv),
            "data": {"file": data.name, "rows": table.num_rows},
        }
        found, proxy_evidence = None, None
        if proxies:
            from trustops.proxies import detect_proxies

            attributes = list(sensitive or [])
            with Console(stderr=True).status(f"Looking for proxies of {', '.join(attributes)}…"):
                found = detect_proxies(
                    table,
                    sensitive=attributes,
                    features=list(features.names),
                    importance=result.importance(),
                    seed=seed,
                )
            proxy_evidence = {**found.to_dict(), "model": content["model"], "data": content["data"]}
        if reg is not None:
            reg.record_evidence("explanation", mv, content)
            if proxy_evidence is not None:
                reg.record_evidence("proxies", mv, proxy_evidence)
    if plot is not None:
        write_text(plot, result.plot_bar())
    if output_format is OutputFormat.json:
        shown = content if proxy_evidence is None else {**content, "proxies": proxy_evidence}
        _emit(json.dumps(shown, indent=2, ensure_ascii=False, default=str), output)
        return
    tables = [_importance_table(content)]
    for column, groups in content.get("by_group", {}).items():
        tables.append(_group_table(column, groups["groups"], list(content["importance"])))
    if found is not None:
        from trustops.proxies import rich_table as proxy_table

        tables.append(proxy_table(found))
    text = _render(*tables, to_file=output is not None)
    if output is not None:
        _emit(text, output)


def _importance_table(content: dict[str, Any]) -> Table:
    table = Table(title=f"{content['model']['file']}: {content['explainer']} ({content['output']})")
    table.add_column("feature")
    table.add_column("mean |attribution|", justify="right")
    for feature, value in content["importance"].items():
        table.add_row(feature, f"{value:.4f}")
    return table


def _group_table(column: str, groups: dict[str, Any], order: list[str]) -> Table:
    table = Table(title=f"importance by {column}")
    table.add_column("feature")
    for group, g in groups.items():
        table.add_column(f"{group} (n={g['count']})", justify="right")
    for feature in order:
        table.add_row(feature, *(f"{g['importance'][feature]:.4f}" for g in groups.values()))
    return table


def _applicants(text: str) -> Any:
    import pyarrow as pa

    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        source, raw = "--applicant", stripped
    else:
        path = Path(text)
        if not path.is_file():
            raise UsageError(f"--applicant {text!r} is neither JSON nor a file")
        source, raw = path.name, path.read_text(encoding="utf-8")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not valid JSON: {exc}") from None
    records = [value] if isinstance(value, dict) else value
    if (
        not isinstance(records, list)
        or not records
        or not all(isinstance(r, dict) for r in records)
    ):
        raise InputError(f"{source} must hold an applicant object or a list of them")
    return pa.Table.from_pylist(records)


def _concepts(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        feature, sep, concept = pair.partition("=")
        if not sep or not feature or not concept:
            raise UsageError(f"--concept takes FEATURE=CONCEPT, got {pair!r}")
        out[feature] = concept
    return out


@app.command("reasons")
def reasons_command(
    ctx: typer.Context,
    model: Annotated[Path, typer.Option("--model", help=f"The model: {LOADS_CODE}.")],
    dictionary: Annotated[
        Path,
        typer.Option("--dictionary", help="The reason-code dictionary (JSON: version, reasons)."),
    ],
    applicant: Annotated[
        str | None,
        typer.Option("--applicant", help="One applicant (or a list) as JSON, inline or a file."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Or the applicants as a CSV/Parquet file.")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="The column naming each applicant (default: row).")
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="A column that is not a feature (repeatable)."),
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="The decision threshold on the score.")
    ] = 0.5,
    favourable: Annotated[
        Favourable,
        typer.Option("--favourable", help="high: a score at or above the threshold approves."),
    ] = Favourable.high,
    max_reasons: Annotated[
        int, typer.Option("--max-reasons", help="At most this many reasons (1 to 10).")
    ] = 4,
    prohibited: Annotated[
        list[str] | None,
        typer.Option(
            "--prohibited",
            help="A prohibited basis (repeatable; default: race, color, religion, "
            "national_origin, sex, marital_status).",
        ),
    ] = None,
    allow_input: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-input", help="Allow this prohibited basis as a model input (never a reason)."
        ),
    ] = None,
    proxy: Annotated[
        list[str] | None,
        typer.Option("--proxy", help="A listed proxy, never given as a reason (repeatable)."),
    ] = None,
    concept: Annotated[
        list[str] | None,
        typer.Option("--concept", help="FEATURE=CONCEPT: group features into one reason."),
    ] = None,
    background: Annotated[
        Path | None,
        typer.Option("--background", help="The baseline rows (default: sampled from --data)."),
    ] = None,
    background_rows: Annotated[
        int, typer.Option("--background-rows", help="Rows sampled for the baseline.")
    ] = 100,
    baseline: Annotated[
        Baseline,
        typer.Option(
            "--baseline",
            help="all: measure from every baseline row; approved: only from those the model "
            "approves at --threshold.",
        ),
    ] = Baseline.all,
    method: Annotated[
        Method, typer.Option("--method", help="auto, tree, linear, permutation, kernel or lime.")
    ] = Method.auto,
    budget: Annotated[
        int, typer.Option("--budget", help="Model evaluations per row (sampling explainers).")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seeds sampling.")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The notices' time (ISO 8601; default: now).")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the output to this file.")
    ] = None,
    record: Annotated[
        str | None,
        typer.Option(
            "--record", help="Record the notices as reason_codes evidence on NAME@VERSION."
        ),
    ] = None,
) -> None:
    """Principal reasons for each denied applicant, mapped through a reason-code dictionary.

    Loading the model runs code from the file: load only your own files.

    Example: trustops reasons --model model.joblib --data applicants.csv --dictionary codes.json
    """
    from trustops.core.explain.reasons import ReasonDictionary
    from trustops.engines.files import read_table
    from trustops.notices import (
        PROHIBITED_BASES,
        adverse_action_notices,
        check_inputs,
        file_sha256,
        load_model,
        model_features,
    )

    if (applicant is None) == (data is None):
        raise UsageError("give the applicants: --applicant JSON or --data FILE (one of them)")
    if applicant is not None and background is None:
        raise UsageError("--applicant needs --background FILE: the baseline rows to explain from")
    time = _as_of(as_of)
    try:
        codes = ReasonDictionary.from_dict(json.loads(dictionary.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(f"dictionary file {dictionary} is not a file") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{dictionary.name} is not valid JSON: {exc}") from None
    sha256 = file_sha256(model)
    banned = list(prohibited or PROHIBITED_BASES)
    concepts = _concepts(concept)
    with _recording(ctx, record, sha256) as (reg, mv):
        fitted = load_model(model)
        table = _applicants(applicant) if applicant is not None else read_table(data)  # type: ignore[arg-type]
        exclude = [c for c in [id_column, *(drop or [])] if c]
        if id_column is not None and id_column not in table.column_names:
            raise InputError(f"--id column {id_column!r} is not among the applicants' columns")
        features = model_features(fitted, table.column_names, exclude=exclude)
        check_inputs(
            features.names,
            dictionary=codes,
            concepts=concepts,
            prohibited=banned,
            proxies=proxy or [],
            allow=allow_input or [],
        )
        reference = read_table(background) if background is not None else table
        reference = _sample(reference.select(list(features.names)), background_rows, seed)
        ids = table.column(id_column).to_pylist() if id_column else None
        with Console(stderr=True).status(f"Explaining denials by {model.name}…"):
            notices = adverse_action_notices(
                fitted,
                table.select(list(features.names)),
                features=features.names,
                dictionary=codes,
                background=reference,
                model_sha256=sha256,
                time=time,
                ids=ids,
                threshold=threshold,
                favourable=favourable.value,
                max_reasons=max_reasons,
                concepts=concepts,
                prohibited=banned,
                proxies=proxy or [],
                allow=allow_input or [],
                method=method.value,
                budget=budget,
                seed=seed,
                model_version=None if mv is None else f"{mv.system}/{mv.ref}",
                baseline=baseline.value,
            )
        content = {
            "model": _model_info(model, sha256, mv),
            "dictionary_version": codes.version,
            "threshold": threshold,
            "favourable": favourable.value,
            "max_reasons": max_reasons,
            "baseline": baseline.value,
            "prohibited": banned,
            "proxies": list(proxy or []),
            "time": time,
            "denied": sum(n["decision"] == "denied" for n in notices),
            "notices": notices,
        }
        if reg is not None:
            reg.record_evidence("reason_codes", mv, content)
    if output_format is OutputFormat.json:
        _emit(json.dumps(content, indent=2, ensure_ascii=False, default=str), output)
        return
    text = _render(_notices_table(content), to_file=output is not None)
    if output is not None:
        _emit(text, output)


def _notices_table(content: dict[str, Any]) -> Table:
    table = Table(
        title=f"{content['model']['file']}: reason codes "
        f"(dictionary {content['dictionary_version']}, threshold {content['threshold']})"
    )
    for name in ("applicant", "score", "decision", "principal reasons", "withheld"):
        table.add_column(name, justify="right" if name == "score" else "left")
    for n in content["notices"]:
        if n["decision"] == "approved":
            table.add_row(str(n["applicant"]), f"{n['score']:.3f}", n["message"], "", "")
            continue
        reasons = "\n".join(f"{r['code']} {r['text']}" for r in n["reasons"]) or "(none found)"
        table.add_row(
            str(n["applicant"]), f"{n['score']:.3f}", "denied", reasons, ", ".join(n["withheld"])
        )
    return table
