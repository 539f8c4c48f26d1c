"""A monitor's configuration: its window, columns, checks (thresholds from the policy), channels.

Written in YAML or JSON (or given as a mapping)::

    monitor: credit-fairness
    model: credit-scoring/credit-scorer@1
    window: {kind: time, size: 1d, lateness: 1h}      # or {kind: count, size: 1000}
    columns:
      time: timestamp          # event time (timestamp or ISO-8601 text)
      received: received_at    # optional: arrival time, for the lateness rule
      prediction: prediction
      score: score             # optional
      label: label             # optional: ground truth, once it arrives
      sensitive: [race, sex]
      features: [income, debt_ratio]   # compared with the reference profile
    reference: train@1         # a registered dataset version (its stored profile) or a .tprof file
    policy: eeoc-four-fifths   # thresholds: the policy's fairness, drift and performance rules
    checks:                    # more thresholds, beside the policy's
      - {metric: fairness.selection_rate.ratio, op: ">=", threshold: 0.8}
      - {metric: drift.share_drifted, op: "<=", threshold: 0.3}
      - {metric: performance.accuracy, op: ">=", threshold: 0.7}
    anomalies:                 # Shewhart charts of the predictions (|z| <= limit)
      selection_rate: {baseline_windows: 5}   # or {baseline: 0.42}
      score_mean: {baseline: 0.6, sigma: 0.2}
      limit: 3
    persistence: 3             # windows in a row that make a breach an alert
    cooldown: 1d               # a firing check re-sends at most this often
    fairness: {confidence: 0.95, bootstrap: 200, seed: 0, min_group_size: 30}
    channels:
      - {type: webhook, url: "https://hooks.example/trustops"}
      - {type: slack, url: "https://hooks.slack.com/services/..."}
      - {type: email, host: smtp.example, port: 25, sender: trustops@example, to: [risk@example]}
    triggers:
      - {command: [python, retrain.py], on: [fairness]}   # JSON payload on stdin; no shell
      - {webhook: "https://ci.example/retrain", on: [drift]}
    retry: {attempts: 4, backoff: 1s}

Durations are seconds or ``15s``, ``30m``, ``1h``, ``1d``, ``1w``. Every error
names the field at fault (``checks[1].op``).

Policy rules become checks as follows (``info`` rules are left out): fairness
``disparities.METRIC.CONVENTION`` as written; ``four_fifths.impact_ratio`` and
``aggregates.demographic_parity_ratio`` as ``selection_rate.ratio``;
``aggregates.demographic_parity_difference`` as ``selection_rate.difference``;
``aggregates.equal_opportunity_{ratio,difference}`` on ``true_positive_rate``;
drift ``share_drifted``; performance ``METRIC``.

Example:
    >>> c = build_config({"monitor": "m", "model": "scorer@1",
    ...     "window": {"kind": "time", "size": "1h"},
    ...     "columns": {"time": "ts", "prediction": "p", "sensitive": ["sex"]},
    ...     "policy": "eeoc-four-fifths"})
    >>> [(k.key, k.op, k.threshold) for k in c.checks]
    [('fairness:selection_rate.ratio', '>=', 0.8)]
    >>> c.window.size_us
    3600000000
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustops.core.audit import canonical_json
from trustops.core.monitoring.rules import MONITOR_OPERATORS
from trustops.errors import InputError

__all__ = [
    "ANOMALY_STATISTICS",
    "CHECK_KINDS",
    "AnomalySpec",
    "ChannelSpec",
    "CheckSpec",
    "ColumnSpec",
    "ConfigError",
    "MonitorConfig",
    "TriggerSpec",
    "WindowSpec",
    "build_config",
    "load_config",
    "parse_duration",
]

CHECK_KINDS = ("fairness", "drift", "performance", "anomaly")
ANOMALY_STATISTICS = ("selection_rate", "score_mean")
CHANNEL_TYPES = ("webhook", "slack", "email")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_CONVENTIONS = ("difference", "ratio", "difference_to_overall", "ratio_to_overall")
# Fairness metrics a window can compute without ground truth.
LABEL_FREE = ("selection_rate",)
_PERFORMANCE = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "true_positive_rate",
    "false_positive_rate",
    "roc_auc",
    "brier_score",
)
_AGGREGATE_CHECKS = {
    "demographic_parity_ratio": ("selection_rate", "ratio"),
    "demographic_parity_difference": ("selection_rate", "difference"),
    "equal_opportunity_ratio": ("true_positive_rate", "ratio"),
    "equal_opportunity_difference": ("true_positive_rate", "difference"),
    "predictive_parity_difference": ("precision", "difference"),
}


class ConfigError(InputError):
    """A monitor configuration that cannot be used; the message names the field."""


def _where(path: Sequence[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _fail(path: Sequence[str | int], message: str, hint: str | None = None) -> ConfigError:
    where = _where(path)
    return ConfigError(f"monitor config {where}: {message}" if where else message, hint=hint)


def parse_duration(value: Any, path: Sequence[str | int] = ("duration",)) -> int:
    """Seconds from ``90``, ``"15s"``, ``"30m"``, ``"1h"``, ``"1d"`` or ``"1w"``.

    Example:
        >>> parse_duration("1d"), parse_duration(90)
        (86400, 90)
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", value)
        if m:
            return int(m.group(1)) * _UNITS[m.group(2) or "s"]
    raise _fail(path, f"not a duration: {value!r}", hint="seconds, or e.g. 15s, 30m, 1h, 1d, 1w")


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """``time`` windows of ``size_us`` (with lateness and origin) or ``count`` windows."""

    kind: str
    size: int  # µs for time windows, predictions for count windows
    lateness_us: int = 0
    origin_us: int = 0

    @property
    def size_us(self) -> int:
        return self.size


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """Which columns of the prediction log hold what."""

    time: str = "timestamp"
    prediction: str = "prediction"
    sensitive: tuple[str, ...] = ()
    received: str | None = None
    score: str | None = None
    label: str | None = None
    features: tuple[str, ...] = ()
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One monitored threshold: ``kind:metric value OP threshold``, and where it came from."""

    kind: str
    metric: str  # fairness: METRIC.CONVENTION; drift: share_drifted; performance: METRIC
    op: str
    threshold: float
    source: str = "config"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.metric}"


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """Where alerts go: ``webhook`` / ``slack`` (a URL) or ``email`` (an SMTP server)."""

    type: str
    name: str
    url: str | None = None
    host: str | None = None
    port: int = 25
    sender: str | None = None
    to: tuple[str, ...] = ()
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """A retraining trigger: a command (argument list) or a webhook, on checks of some kinds."""

    name: str
    on: tuple[str, ...] = ()  # check kinds or keys; empty: any alert
    command: tuple[str, ...] = ()
    webhook: str | None = None
    timeout: float = 600.0

    def matches(self, key: str) -> bool:
        return not self.on or any(key == o or key.split(":")[0] == o for o in self.on)


@dataclass(frozen=True, slots=True)
class AnomalySpec:
    """A Shewhart chart of a prediction statistic: its baseline, given or estimated.

    ``baseline`` (p0 or μ0) and ``sigma`` (σ0, score means only) are given, or
    estimated from the first ``baseline_windows`` windows with data.
    """

    statistic: str  # selection_rate | score_mean
    limit: float = 3.0
    baseline: float | None = None
    sigma: float | None = None
    baseline_windows: int = 0


@dataclass(frozen=True)
class MonitorConfig:
    """A validated monitor configuration (see the module docstring)."""

    name: str
    model: str
    window: WindowSpec
    columns: ColumnSpec
    checks: tuple[CheckSpec, ...]
    reference: str | None = None
    policy: str | None = None
    persistence: int = 3
    cooldown_us: int = 86_400 * 1_000_000
    confidence: float = 0.95
    bootstrap: int = 200
    seed: int = 0
    min_group_size: int = 30
    pos_label: Any = 1
    channels: tuple[ChannelSpec, ...] = ()
    triggers: tuple[TriggerSpec, ...] = ()
    retry_attempts: int = 4
    retry_backoff: float = 1.0
    anomalies: tuple[AnomalySpec, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The document it was built from (JSON-ready)."""
        return json.loads(canonical_json(dict(self.source)))


def _mapping(d: Any, path: Sequence[str | int]) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise _fail(path, "must be a mapping")
    return d


def _known(d: Mapping[str, Any], allowed: set[str], path: Sequence[str | int]) -> None:
    for key in d:
        if key not in allowed:
            raise _fail((*path, key), "unknown key", hint=f"known: {', '.join(sorted(allowed))}")


def _string(d: Mapping[str, Any], key: str, path: Sequence[str | int], default: Any = None) -> Any:
    value = d.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _fail((*path, key), f"must be a non-empty string, not {value!r}")
    return value


def _strings(d: Mapping[str, Any], key: str, path: Sequence[str | int]) -> tuple[str, ...]:
    value = d.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail((*path, key), "must be a list of strings")
    return tuple(value)


def _number(d: Mapping[str, Any], key: str, path: Sequence[str | int], default: Any) -> Any:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail((*path, key), f"must be a number, not {value!r}")
    return value


def _window(d: Any) -> WindowSpec:
    path = ("window",)
    d = _mapping(d, path)
    _known(d, {"kind", "size", "lateness", "origin"}, path)
    kind = d.get("kind", "time")
    if kind == "count":
        size = d.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _fail((*path, "size"), f"a count window needs a whole size >= 1, not {size!r}")
        if "lateness" in d:
            raise _fail((*path, "lateness"), "count windows have no lateness allowance")
        return WindowSpec("count", size)
    if kind != "time":
        raise _fail((*path, "kind"), f"unknown window kind {kind!r}", hint="time or count")
    size = parse_duration(d.get("size"), (*path, "size"))
    if size <= 0:
        raise _fail((*path, "size"), "a time window must last at least 1 second")
    lateness = parse_duration(d.get("lateness", 0), (*path, "lateness"))
    origin = 0
    if d.get("origin") is not None:
        origin = _iso_us(d["origin"], (*path, "origin"))
    return WindowSpec("time", size * 1_000_000, lateness * 1_000_000, origin)


def _iso_us(value: Any, path: Sequence[str | int]) -> int:
    from datetime import UTC, datetime

    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _fail(path, f"not an ISO-8601 time: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _columns(d: Any) -> ColumnSpec:
    path = ("columns",)
    d = _mapping(d or {}, path)
    _known(
        d, {"time", "received", "prediction", "score", "label", "sensitive", "features", "id"}, path
    )
    sensitive = _strings(d, "sensitive", path)
    return ColumnSpec(
        time=_string(d, "time", path, "timestamp"),
        prediction=_string(d, "prediction", path, "prediction"),
        sensitive=sensitive,
        received=_string(d, "received", path),
        score=_string(d, "score", path),
        label=_string(d, "label", path),
        features=_strings(d, "features", path),
        id=_string(d, "id", path),
    )


def _check(kind: str, metric: str, path: Sequence[str | int]) -> str:
    if kind == "fairness":
        name, _, convention = metric.rpartition(".")
        if not name or convention not in _CONVENTIONS:
            raise _fail(
                path,
                f"a fairness check is METRIC.CONVENTION, not {metric!r}",
                hint=f"conventions: {', '.join(_CONVENTIONS)}",
            )
    elif kind == "drift":
        if metric != "share_drifted":
            raise _fail(path, f"the drift check is share_drifted, not {metric!r}")
    elif kind == "anomaly":
        raise _fail(path, "anomaly checks are set in the anomalies: section", hint="see docs")
    elif kind == "performance":
        if metric not in _PERFORMANCE:
            raise _fail(
                path, f"unknown performance metric {metric!r}", hint=", ".join(_PERFORMANCE)
            )
    else:
        raise _fail(path, f"unknown check kind {kind!r}", hint=", ".join(CHECK_KINDS))
    return metric


def _explicit_checks(items: Any) -> list[CheckSpec]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise _fail(("checks",), "must be a list")
    out = []
    for i, item in enumerate(items):
        path = ("checks", i)
        item = _mapping(item, path)
        _known(item, {"metric", "op", "threshold"}, path)
        metric = _string(item, "metric", path)
        if metric is None or "." not in metric:
            raise _fail((*path, "metric"), "is KIND.METRIC, e.g. fairness.selection_rate.ratio")
        kind, _, rest = metric.partition(".")
        _check(kind, rest, (*path, "metric"))
        op = item.get("op")
        if op not in MONITOR_OPERATORS:
            raise _fail((*path, "op"), f"unknown operator {op!r}", hint=" ".join(MONITOR_OPERATORS))
        threshold = _number(item, "threshold", path, None)
        out.append(CheckSpec(kind, rest, op, float(threshold)))
    return out


def policy_checks(policy: Any) -> list[CheckSpec]:
    """The checks a policy's fairness, drift and performance rules make (module docstring)."""
    out = []
    for rule in policy.rules:
        if rule.kind != "metric" or rule.severity == "info" or rule.op not in MONITOR_OPERATORS:
            continue
        source = f"policy:{policy.name}#{rule.id}"
        metric = rule.metric or ""
        check: tuple[str, str] | None = None
        if rule.evidence == "fairness":
            parts = metric.split(".")
            if len(parts) == 3 and parts[0] == "disparities" and parts[2] in _CONVENTIONS:
                check = ("fairness", f"{parts[1]}.{parts[2]}")
            elif metric == "four_fifths.impact_ratio":
                check = ("fairness", "selection_rate.ratio")
            elif parts[0] == "aggregates" and parts[-1] in _AGGREGATE_CHECKS:
                name, convention = _AGGREGATE_CHECKS[parts[-1]]
                check = ("fairness", f"{name}.{convention}")
        elif rule.evidence == "drift" and metric == "share_drifted":
            check = ("drift", "share_drifted")
        elif rule.evidence == "performance" and metric in _PERFORMANCE:
            check = ("performance", metric)
        if check is not None:
            out.append(CheckSpec(check[0], check[1], rule.op, float(rule.threshold), source))
    return out


def _anomalies(d: Any) -> tuple[AnomalySpec, ...]:
    path: tuple[str, ...] = ("anomalies",)
    d = _mapping(d or {}, path)
    _known(d, {*ANOMALY_STATISTICS, "limit"}, path)
    limit = float(_number(d, "limit", path, 3.0))
    if limit <= 0:
        raise _fail((*path, "limit"), f"must be > 0, not {limit}")
    out = []
    for statistic in ANOMALY_STATISTICS:
        if statistic not in d:
            continue
        spath = (*path, statistic)
        item = _mapping(d[statistic] or {}, spath)
        _known(item, {"baseline", "sigma", "baseline_windows"}, spath)
        baseline = item.get("baseline")
        windows = item.get("baseline_windows", 0 if baseline is not None else 5)
        if isinstance(windows, bool) or not isinstance(windows, int) or windows < 0:
            raise _fail((*spath, "baseline_windows"), "must be a whole number >= 0")
        if baseline is None and windows == 0:
            raise _fail(spath, "needs a baseline, or baseline_windows >= 1 to estimate it")
        if baseline is not None:
            baseline = float(_number(item, "baseline", spath, None))
            if statistic == "selection_rate" and not 0 < baseline < 1:
                raise _fail(
                    (*spath, "baseline"), f"a rate strictly between 0 and 1, not {baseline}"
                )
        sigma = item.get("sigma")
        if statistic == "score_mean" and baseline is not None:
            sigma = float(_number(item, "sigma", spath, None))
            if sigma <= 0:
                raise _fail((*spath, "sigma"), f"must be > 0, not {sigma}")
        out.append(
            AnomalySpec(statistic, limit, baseline, sigma, windows if baseline is None else 0)
        )
    return tuple(out)


def _channels(items: Any) -> tuple[ChannelSpec, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise _fail(("channels",), "must be a list")
    out = []
    for i, item in enumerate(items):
        path = ("channels", i)
        item = _mapping(item, path)
        kind = item.get("type")
        if kind not in CHANNEL_TYPES:
            raise _fail((*path, "type"), f"unknown channel {kind!r}", hint=", ".join(CHANNEL_TYPES))
        name = _string(item, "name", path, f"{kind}-{i + 1}")
        timeout = float(_number(item, "timeout", path, 10.0))
        if kind in ("webhook", "slack"):
            _known(item, {"type", "name", "url", "timeout"}, path)
            url = _string(item, "url", path)
            if url is None or not url.startswith(("http://", "https://")):
                raise _fail((*path, "url"), f"needs an http(s) URL, not {url!r}")
            out.append(ChannelSpec(kind, name, url=url, timeout=timeout))
            continue
        _known(item, {"type", "name", "host", "port", "sender", "to", "starttls", "timeout"}, path)
        host, sender = _string(item, "host", path), _string(item, "sender", path)
        to = _strings(item, "to", path)
        if host is None or sender is None or not to:
            raise _fail(path, "an email channel needs host, sender and to")
        port = _number(item, "port", path, 25)
        out.append(
            ChannelSpec(
                kind,
                name,
                host=host,
                port=int(port),
                sender=sender,
                to=to,
                starttls=bool(item.get("starttls", False)),
                timeout=timeout,
            )
        )
    return tuple(out)


def _triggers(items: Any) -> tuple[TriggerSpec, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise _fail(("triggers",), "must be a list")
    out = []
    for i, item in enumerate(items):
        path = ("triggers", i)
        item = _mapping(item, path)
        _known(item, {"name", "on", "command", "webhook", "timeout"}, path)
        command = item.get("command")
        webhook = _string(item, "webhook", path)
        if (command is None) == (webhook is None):
            raise _fail(path, "a trigger has either a command or a webhook")
        if command is not None and (
            not isinstance(command, list)
            or not command
            or not all(isinstance(a, str) for a in command)
        ):
            raise _fail(
                (*path, "command"),
                "must be a list of arguments (no shell)",
                hint='e.g. ["python", "retrain.py"]',
            )
        if webhook is not None and not webhook.startswith(("http://", "https://")):
            raise _fail((*path, "webhook"), f"needs an http(s) URL, not {webhook!r}")
        out.append(
            TriggerSpec(
                name=_string(item, "name", path, f"trigger-{i + 1}"),
                on=_strings(item, "on", path),
                command=tuple(command or ()),
                webhook=webhook,
                timeout=float(_number(item, "timeout", path, 600.0)),
            )
        )
    return tuple(out)


def build_config(document: Mapping[str, Any], *, policy: Any = None) -> MonitorConfig:
    """Validate a configuration document; ``policy`` (a loaded policy) beats ``policy:``."""
    d = _mapping(document, ())
    _known(
        d,
        {
            "monitor", "model", "window", "columns", "reference", "policy", "checks",
            "persistence", "cooldown", "fairness", "pos_label", "channels", "triggers", "retry",
            "anomalies",
        },
        (),
    )  # fmt: skip
    name = _string(d, "monitor", ())
    if name is None or not _NAME.fullmatch(name):
        raise _fail(("monitor",), f"needs a name (letters, digits, '.', '_', '-'), not {name!r}")
    model = _string(d, "model", ())
    if model is None:
        raise _fail(("model",), "is required: the monitored model version (NAME@V)")
    if "window" not in d:
        raise _fail(("window",), "is required, e.g. {kind: time, size: 1d}")
    window = _window(d["window"])
    columns = _columns(d.get("columns"))
    policy_name = _string(d, "policy", ())
    if policy is None and policy_name is not None:
        from trustops.policy import load_policy

        policy = load_policy(policy_name)
    anomalies = _anomalies(d.get("anomalies"))
    checks = (policy_checks(policy) if policy is not None else []) + _explicit_checks(
        d.get("checks")
    )
    checks += [CheckSpec("anomaly", a.statistic, "<=", a.limit) for a in anomalies]
    if anomalies and any(a.statistic == "score_mean" for a in anomalies) and not columns.score:
        raise _fail(("columns", "score"), "the score_mean chart needs the score column")
    for check in checks:
        if check.kind == "fairness" and not columns.sensitive:
            raise _fail(("columns", "sensitive"), f"{check.key} needs the sensitive columns")
        if check.kind == "drift" and not columns.features:
            raise _fail(("columns", "features"), "the drift check needs the feature columns")
        if check.kind == "drift" and d.get("reference") is None:
            raise _fail(("reference",), "the drift check needs a reference profile")
    fairness = _mapping(d.get("fairness") or {}, ("fairness",))
    _known(fairness, {"confidence", "bootstrap", "seed", "min_group_size"}, ("fairness",))
    confidence = float(_number(fairness, "confidence", ("fairness",), 0.95))
    if not 0 < confidence < 1:
        raise _fail(("fairness", "confidence"), f"must lie in (0, 1), not {confidence}")
    bootstrap = _number(fairness, "bootstrap", ("fairness",), 200)
    if not isinstance(bootstrap, int) or bootstrap < 0:
        raise _fail(("fairness", "bootstrap"), "must be a whole number >= 0")
    persistence = _number(d, "persistence", (), 3)
    if not isinstance(persistence, int) or persistence < 1:
        raise _fail(("persistence",), f"must be a whole number >= 1, not {persistence!r}")
    retry = _mapping(d.get("retry") or {}, ("retry",))
    _known(retry, {"attempts", "backoff"}, ("retry",))
    attempts = _number(retry, "attempts", ("retry",), 4)
    if not isinstance(attempts, int) or attempts < 1:
        raise _fail(("retry", "attempts"), "must be a whole number >= 1")
    backoff = retry.get("backoff", 1.0)
    backoff = float(backoff) if isinstance(backoff, int | float) and not isinstance(
        backoff, bool
    ) else float(parse_duration(backoff, ("retry", "backoff")))  # fmt: skip
    return MonitorConfig(
        name=name,
        model=model,
        window=window,
        columns=columns,
        checks=tuple(checks),
        reference=_string(d, "reference", ()),
        policy=policy_name,
        persistence=persistence,
        cooldown_us=parse_duration(d.get("cooldown", "1d"), ("cooldown",)) * 1_000_000,
        confidence=confidence,
        bootstrap=bootstrap,
        seed=int(_number(fairness, "seed", ("fairness",), 0)),
        min_group_size=int(_number(fairness, "min_group_size", ("fairness",), 30)),
        pos_label=d.get("pos_label", 1),
        channels=_channels(d.get("channels")),
        triggers=_triggers(d.get("triggers")),
        retry_attempts=attempts,
        retry_backoff=backoff,
        anomalies=anomalies,
        source=dict(d),
    )


def load_config(source: str | Path | Mapping[str, Any]) -> MonitorConfig:
    """A monitor configuration from a YAML or JSON file, or a mapping."""
    if isinstance(source, Mapping):
        return build_config(source)
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"monitor config {path} not found")
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        raise ConfigError(f"{where}: not valid YAML") from None
    try:
        return build_config(document)
    except ConfigError as exc:
        raise ConfigError(f"{path.name}: {exc.message}", hint=exc.hint) from None
