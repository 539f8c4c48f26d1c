"""Bad policies: each error names the file, line and column, and the path in the document.

Also: ``check_scopes`` refusing what the evidence lacks, the shipped packs against the
published JSON Schema, and invalid documents that the schema and the loader both refuse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from trustops.core.policy import EvidenceItem, PolicyError, build_policy, check_scopes, evaluate
from trustops.policy import load_policy, load_policy_text, pack_names, pack_path, schema_path

# Line numbers below count from this document: "rules:" is line 2, the rule's keys are
# at column 5 of lines 3-7.
BASE = """\
policy: p
rules:
  - id: ir
    evidence: fairness
    metric: four_fifths.impact_ratio
    op: ">="
    threshold: 0.8
"""
SECOND = "  - id: second\n    kind: evidence\n    evidence: fairness\n"  # lines 8-10


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text
    return text.replace(old, new, 1)


CASES = [
    pytest.param(
        "policy: p\nrules:\n  - id: [x\n",
        "p.yaml:4:1: YAML syntax error: expected ',' or ']', but got '<stream end>'",
        id="yaml-syntax-flow",
    ),
    pytest.param(
        "policy: p\nrules:\n  - id: x\n   evidence: fairness\n",
        "p.yaml:4:4: YAML syntax error: expected <block end>, but found '<block mapping start>'",
        id="yaml-syntax-indentation",
    ),
    pytest.param(
        'policy: p\nrules:\n  - id: x\n    op: "<\n',
        "p.yaml:5:1: YAML syntax error: found unexpected end of stream",
        id="yaml-syntax-unclosed-quote",
    ),
    pytest.param(
        BASE + "owner: me\n",
        "p.yaml:8:1: owner: unknown key 'owner'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        BASE + "    colour: red\n",
        "p.yaml:8:5: rules[0].colour: unknown key 'colour'",
        id="unknown-rule-key",
    ),
    pytest.param(
        BASE + "    scope: {attributes: [race], feature: [x]}\n",
        "p.yaml:8:33: rules[0].scope.feature: unknown key 'feature'",
        id="unknown-scope-key",
    ),
    pytest.param(
        BASE + SECOND + "    max_age: 3\n",
        "p.yaml:11:5: rules[1].max_age: unknown key 'max_age'",
        id="key-of-another-kind",
    ),
    pytest.param(
        edit("  - id: ir\n    evidence", "  - evidence"),
        "p.yaml:3:5: rules[0]: 'id' is required",
        id="missing-id",
    ),
    pytest.param(
        edit("id: ir", "id: '-ir'"),
        "p.yaml:3:5: rules[0].id: invalid rule id '-ir'",
        id="invalid-id",
    ),
    pytest.param(
        BASE + SECOND.replace("second", "ir"),
        "p.yaml:8:5: rules[1].id: duplicate rule id 'ir'",
        id="duplicate-id",
    ),
    pytest.param(
        BASE + "    op: '<'\n",
        "p.yaml:8:5: duplicate key 'op'",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        BASE + "policy: q\n",
        "p.yaml:8:1: duplicate key 'policy'",
        id="duplicate-top-level-key",
    ),
    pytest.param(
        BASE + "  - id: k\n    kind: metrik\n",
        "p.yaml:9:5: rules[1].kind: unknown rule kind 'metrik'",
        id="unknown-kind",
    ),
    pytest.param(
        BASE + "    severity: fatal\n",
        "p.yaml:8:5: rules[0].severity: unknown severity 'fatal'",
        id="unknown-severity",
    ),
    pytest.param(
        edit("evidence: fairness", "evidence: fairnes"),
        "p.yaml:4:5: rules[0].evidence: unknown evidence kind 'fairnes' for a metric rule",
        id="unknown-evidence-kind-metric",
    ),
    pytest.param(
        BASE + SECOND.replace("evidence: fairness", "evidence: riskmanagement"),
        "p.yaml:10:5: rules[1].evidence: unknown evidence kind 'riskmanagement'",
        id="unknown-evidence-kind-requirement",
    ),
    pytest.param(
        edit("four_fifths.impact_ratio", "four_fifths.impact_ration"),
        "p.yaml:5:5: rules[0].metric: unknown fairness metric 'four_fifths.impact_ration'",
        id="unknown-metric",
    ),
    pytest.param(
        edit("four_fifths.impact_ratio", "drifted_share"),
        "p.yaml:5:5: rules[0].metric: unknown fairness metric 'drifted_share'",
        id="metric-of-another-kind",
    ),
    pytest.param(
        edit("0.8", "-0.5"),
        "p.yaml:7:5: rules[0].threshold: threshold -0.5 is impossible: "
        "four_fifths.impact_ratio lies in [0.0, inf]",
        id="negative-impact-ratio",
    ),
    pytest.param(
        edit("0.8", "1.5", edit("impact_ratio", "selection_rate")),
        "p.yaml:7:5: rules[0].threshold: threshold 1.5 is impossible: "
        "four_fifths.selection_rate lies in [0.0, 1.0]",
        id="rate-above-one",
    ),
    pytest.param(
        edit("0.8", ".nan"),
        "p.yaml:7:5: rules[0].threshold: threshold nan is impossible: "
        "four_fifths.impact_ratio lies in [0.0, inf]",
        id="nan-threshold",
    ),
    pytest.param(
        edit("0.8", "high"),
        "p.yaml:7:5: rules[0].threshold: must be a number, not 'high'",
        id="text-threshold-for-a-number",
    ),
    pytest.param(
        edit("    threshold: 0.8\n", ""),
        "p.yaml:3:5: rules[0]: 'threshold' is required",
        id="missing-threshold",
    ),
    pytest.param(
        edit('">="', '"=>"'),
        "p.yaml:6:5: rules[0].op: unknown operator '=>'",
        id="bad-operator",
    ),
    pytest.param(
        edit("0.8", "true", edit('">="', '"<"', edit("impact_ratio", "below_threshold"))),
        "p.yaml:6:5: rules[0].op: four_fifths.below_threshold is true or false: "
        "use op == or != with true/false",
        id="boolean-metric-with-less-than",
    ),
    pytest.param(
        edit("0.8", "0", edit('">="', '"=="', edit("impact_ratio", "below_threshold"))),
        "p.yaml:7:5: rules[0].threshold: four_fifths.below_threshold is true or false: "
        "use op == or != with true/false",
        id="boolean-metric-with-a-number",
    ),
    pytest.param(
        "policy: p\nrules:\n  - id: q\n    evidence: quality\n    metric: results.status\n"
        "    op: '>='\n    threshold: pass\n",
        "p.yaml:6:5: rules[0].op: results.status is text: use op == or != with a string",
        id="text-metric-with-greater-or-equal",
    ),
    pytest.param(
        BASE + "    significance: {alpha: 1.5}\n",
        "p.yaml:8:20: rules[0].significance.alpha: alpha must be between 0 and 1, not 1.5",
        id="alpha-above-one",
    ),
    pytest.param(
        BASE + "    significance: {alpha: 0}\n",
        "p.yaml:8:20: rules[0].significance.alpha: alpha must be between 0 and 1, not 0.0",
        id="alpha-zero",
    ),
    pytest.param(
        BASE + "    significance: {alpha: 0.05, test: chi2}\n",
        "p.yaml:8:33: rules[0].significance.test: unknown test 'chi2'",
        id="unknown-test",
    ),
    pytest.param(
        BASE + "    min_n: 0\n",
        "p.yaml:8:5: rules[0].min_n: must be at least 1",
        id="min-n-zero",
    ),
    pytest.param(
        BASE + "    scope:\n      groups: [race]\n",
        "p.yaml:9:16: rules[0].scope.groups[0]: a group is 'attribute=value', not 'race'",
        id="bad-group-selector",
    ),
    pytest.param(
        BASE + "    scope:\n      groups: ['race=C', 'sex=female, black']\n",
        "p.yaml:9:26: rules[0].scope.groups[1]: a group is 'attribute=value', "
        "not 'sex=female, black'",
        id="bad-intersectional-selector",
    ),
    pytest.param(
        BASE + "    scope:\n      groups: [[race, C]]\n",
        "p.yaml:9:16: rules[0].scope.groups[0]: a group is 'attribute=value' or a mapping "
        "attribute: value",
        id="group-as-a-list",
    ),
    pytest.param(
        BASE + "  - id: a\n    kind: approvals\n    count: 1\n    roles: [reviewer, boss]\n",
        "p.yaml:11:23: rules[1].roles[1]: unknown value 'boss'",
        id="unknown-role",
    ),
    pytest.param(
        BASE + "  - id: a\n    kind: approvals\n    count: 0\n",
        "p.yaml:10:5: rules[1].count: must be at least 1",
        id="approvals-count-zero",
    ),
    pytest.param(
        BASE + "  - id: f\n    kind: field\n    field: owner\n",
        "p.yaml:10:5: rules[1].field: unknown field 'owner'",
        id="bad-field-path",
    ),
    pytest.param(
        BASE + "  - id: f\n    kind: field\n    field: datasets[Personal].lawful_basis\n",
        "p.yaml:10:5: rules[1].field: unknown field 'datasets[Personal].lawful_basis'",
        id="bad-dataset-flag",
    ),
    pytest.param(
        BASE + "  - id: x\n    kind: prohibited_inputs\n",
        "p.yaml:8:5: rules[1]: 'attributes' is required",
        id="prohibited-without-attributes",
    ),
    pytest.param(
        BASE + "applies_to: {risk: [huge]}\n",
        "p.yaml:8:21: applies_to.risk[0]: unknown value 'huge'",
        id="unknown-risk",
    ),
    pytest.param(
        BASE + "    when: {region: [EU]}\n",
        "p.yaml:8:12: rules[0].when.region: unknown key 'region'",
        id="unknown-when-key",
    ),
    pytest.param(
        "policy: p\nrules: []\n",
        "p.yaml:2:1: rules: 'rules' must be a non-empty list",
        id="empty-rules",
    ),
    pytest.param(
        "policy: p\n",
        "p.yaml:1:1: rules: 'rules' must be a non-empty list",
        id="no-rules",
    ),
    pytest.param(
        "rules:\n  - id: x\n    kind: evidence\n    evidence: fairness\n",
        "p.yaml:1:1: 'policy' is required",
        id="no-name",
    ),
    pytest.param(
        "- policy: p\n",
        "p.yaml:1:1: a policy must be a mapping with 'policy' and 'rules'",
        id="not-a-mapping",
    ),
    pytest.param(
        "",
        "p.yaml: a policy must be a mapping with 'policy' and 'rules'",
        id="empty-file",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_bad_policy_names_file_line_and_column(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, where="p.yaml")
    assert info.value.message == message
    assert str(info.value) == message


def test_the_location_points_at_the_offending_line(tmp_path: Path) -> None:
    text = BASE + SECOND + "    max_age_days: -3\n"
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    where, line, column, rest = info.value.message.split(":", 3)
    assert where == str(path)
    assert text.splitlines()[int(line) - 1][int(column) - 1 :].startswith("max_age_days: -3")
    assert rest == " rules[1].max_age_days: must be positive"
    assert info.value.path == ("rules", 1, "max_age_days")


def test_errors_keep_their_hint() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(BASE + "    severity: fatal\n", where="p.yaml")
    assert info.value.hint == "block warn info"
    assert info.value.one_line().endswith("(hint: block warn info)")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("no-such-pack", "no policy pack 'no-such-pack'"),
        ("missing.yaml", "policy file 'missing.yaml' not found"),
    ],
)
def test_unknown_pack_or_file(source: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(source)
    assert info.value.message == message


# --- check_scopes ------------------------------------------------------------------------

FAIRNESS = EvidenceItem(
    "fairness",
    {
        "four_fifths": [
            {"group": {"race": "A"}, "count": 50, "impact_ratio": 1.0},
            {"group": {"race": "C"}, "count": 32, "impact_ratio": 0.64},
            {"group": {"sex": "female"}, "count": 40, "impact_ratio": 0.9},
            {"group": {"race": "C", "sex": "female"}, "count": 12, "impact_ratio": 0.5},
        ]
    },
)
DRIFT = EvidenceItem(
    "drift",
    {
        "columns": [
            {"column": "income", "drift_detected": True},
            {"column": "age", "drift_detected": False},
        ]
    },
)


def scoped(scope: dict[str, Any], evidence: str = "fairness") -> Any:
    metric = "four_fifths.impact_ratio" if evidence == "fairness" else "columns.drift_detected"
    threshold: Any = 0.8 if evidence == "fairness" else False
    op = ">=" if evidence == "fairness" else "=="
    rule = {"id": "r", "evidence": evidence, "metric": metric, "op": op, "threshold": threshold}
    return build_policy(
        {
            "policy": "p",
            "rules": [
                {"id": "ok", "kind": "evidence", "evidence": "fairness"},
                {**rule, "scope": scope},
            ],
        }
    )


@pytest.mark.parametrize(
    ("scope", "evidence", "message"),
    [
        (
            {"attributes": ["rac"]},
            "fairness",
            "rules[1].scope.attributes: attribute 'rac' is not in the fairness evidence "
            "(it has: race, sex)",
        ),
        (
            {"attributes": ["race", "gender"]},
            "fairness",
            "rules[1].scope.attributes: attribute 'gender' is not in the fairness evidence "
            "(it has: race, sex)",
        ),
        (
            {"groups": ["race=Z"]},
            "fairness",
            "rules[1].scope.groups: group race=Z is not in the fairness evidence",
        ),
        (
            {"groups": ["race=c"]},
            "fairness",
            "rules[1].scope.groups: group race=c is not in the fairness evidence",
        ),
        (
            {"groups": [{"race": "A", "sex": "female"}]},
            "fairness",
            "rules[1].scope.groups: group race=A, sex=female is not in the fairness evidence",
        ),
        (
            {"features": ["incme"]},
            "drift",
            "rules[1].scope.features: feature 'incme' is not in the drift evidence",
        ),
    ],
)
def test_check_scopes_refuses_what_the_evidence_lacks(
    scope: dict[str, Any], evidence: str, message: str
) -> None:
    policy = scoped(scope, evidence)
    with pytest.raises(PolicyError) as info:
        check_scopes(policy, [FAIRNESS, DRIFT])
    assert info.value.message == message
    assert info.value.path[:3] == ("rules", 1, "scope")


@pytest.mark.parametrize(
    ("scope", "evidence"),
    [
        ({"attributes": ["race", "sex"]}, "fairness"),
        ({"groups": ["race=C", {"race": "C", "sex": "female"}]}, "fairness"),
        ({"features": ["income", "age"]}, "drift"),
    ],
)
def test_check_scopes_accepts_what_the_evidence_has(scope: dict[str, Any], evidence: str) -> None:
    policy = scoped(scope, evidence)
    check_scopes(policy, [FAIRNESS, DRIFT])
    assert evaluate(policy, [FAIRNESS, DRIFT]).rules[1].outcome in ("pass", "fail")


def test_check_scopes_leaves_missing_evidence_to_the_rule() -> None:
    policy = scoped({"attributes": ["rac"]})
    check_scopes(policy, [DRIFT])  # no fairness evidence: the rule reports "missing"
    assert evaluate(policy, [DRIFT]).rules[1].outcome == "missing"


# --- the JSON Schema -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return Draft202012Validator(schema)


def test_the_packs_are_shipped() -> None:
    assert {"eeoc-four-fifths", "eu-ai-act-high-risk", "ecoa-adverse-action", "gdpr"} <= set(
        pack_names()
    )


@pytest.mark.parametrize("name", pack_names())
def test_every_pack_loads_and_validates(name: str, validator: Draft202012Validator) -> None:
    policy = load_policy(name)
    assert policy.name == name
    document = yaml.safe_load(pack_path(name).read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert policy.hash == build_policy(document).hash
    decision = evaluate(policy, [])  # nothing recorded: every rule still ends somewhere
    assert len(decision.rules) == len(policy.rules) or not decision.applicable
    assert decision.outcome in ("pass", "warn", "fail")


def doc(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"policy": "p", "rules": list(rules), **top}


IR_RULE = {
    "id": "ir",
    "evidence": "fairness",
    "metric": "four_fifths.impact_ratio",
    "op": ">=",
    "threshold": 0.8,
}

VALID = [
    doc(IR_RULE),
    doc(
        {**IR_RULE, "scope": {"attributes": ["race"], "groups": ["race=C", {"race": "C"}]},
         "min_n": 30, "significance": {"alpha": 0.05, "test": "fisher"},
         "on_insufficient": "fail", "severity": "warn", "when": {"risk": ["high"]}},
        {"id": "fresh", "kind": "evidence", "evidence": "fairness", "max_age_days": 90},
        {"id": "owner", "kind": "field", "field": "datasets[personal_data].lawful_basis"},
        {"id": "two", "kind": "approvals", "count": 2, "roles": ["reviewer"]},
        {"id": "inputs", "kind": "prohibited_inputs", "attributes": ["race"], "allowed": []},
        version="2.1",
        description="d",
        applies_to={"use_case": ["credit"], "jurisdiction": ["EU"]},
    ),
]  # fmt: skip

INVALID = [
    pytest.param(doc(IR_RULE, owner="me"), id="unknown-top-level-key"),
    pytest.param(doc({**IR_RULE, "colour": "red"}), id="unknown-rule-key"),
    pytest.param(doc({k: v for k, v in IR_RULE.items() if k != "id"}), id="missing-id"),
    pytest.param(doc({**IR_RULE, "id": "-x"}), id="invalid-id"),
    pytest.param(doc({k: v for k, v in IR_RULE.items() if k != "threshold"}), id="no-threshold"),
    pytest.param(doc({**IR_RULE, "op": "=>"}), id="bad-operator"),
    pytest.param(doc({**IR_RULE, "severity": "fatal"}), id="unknown-severity"),
    pytest.param(doc({**IR_RULE, "kind": "metrik"}), id="unknown-kind"),
    pytest.param(doc({**IR_RULE, "significance": {"alpha": 1.5}}), id="alpha-above-one"),
    pytest.param(doc({**IR_RULE, "significance": {"test": "z"}}), id="alpha-missing"),
    pytest.param(doc({**IR_RULE, "min_n": 0}), id="min-n-zero"),
    pytest.param(doc({**IR_RULE, "scope": {"groups": ["race"]}}), id="bad-group"),
    pytest.param(doc({**IR_RULE, "scope": {"feature": ["x"]}}), id="unknown-scope-key"),
    pytest.param(doc({**IR_RULE, "on_insufficient": "ignore"}), id="bad-on-insufficient"),
    pytest.param(
        doc({"id": "f", "kind": "evidence", "evidence": "fairness", "max_age_days": 0}),
        id="max-age-zero",
    ),
    pytest.param(doc({"id": "f", "kind": "field", "field": "owner"}), id="bad-field-path"),
    pytest.param(doc({"id": "a", "kind": "approvals", "count": 0}), id="approvals-zero"),
    pytest.param(
        doc({"id": "a", "kind": "approvals", "count": 1, "roles": ["boss"]}), id="unknown-role"
    ),
    pytest.param(doc({"id": "x", "kind": "prohibited_inputs"}), id="prohibited-no-attributes"),
    pytest.param(doc(IR_RULE, applies_to={"risk": ["huge"]}), id="unknown-risk"),
    pytest.param(doc(), id="empty-rules"),
    pytest.param({"rules": [IR_RULE]}, id="no-name"),
    pytest.param(doc(IR_RULE, version=True), id="boolean-version"),
]

# What only the loader can know: metric names, ranges, evidence kinds, unique ids.
LOADER_ONLY = [
    pytest.param(doc({**IR_RULE, "metric": "four_fifths.impact_ration"}), id="unknown-metric"),
    pytest.param(doc({**IR_RULE, "evidence": "fairnes"}), id="unknown-evidence-kind"),
    pytest.param(doc({**IR_RULE, "threshold": -0.5}), id="impossible-threshold"),
    pytest.param(doc(IR_RULE, IR_RULE), id="duplicate-id"),
]


@pytest.mark.parametrize("document", VALID)
def test_valid_documents_pass_both(document: dict, validator: Draft202012Validator) -> None:
    assert list(validator.iter_errors(document)) == []
    build_policy(document)


@pytest.mark.parametrize("document", INVALID)
def test_invalid_documents_are_refused_by_both(
    document: dict, validator: Draft202012Validator
) -> None:
    assert list(validator.iter_errors(document)) != []
    with pytest.raises(PolicyError):
        build_policy(document)


@pytest.mark.parametrize("document", LOADER_ONLY)
def test_the_loader_refuses_more_than_the_schema(
    document: dict, validator: Draft202012Validator
) -> None:
    assert list(validator.iter_errors(document)) == []
    with pytest.raises(PolicyError):
        build_policy(document)
