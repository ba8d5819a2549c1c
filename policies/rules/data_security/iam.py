"""IAM: no wildcard permissions on sensitive services and no role that anyone can assume.

Judged wherever a document is recorded: managed policies, inline role/user/group policies, a role's
``inlinePolicies`` and its trust policy (``assumeRolePolicy``).
"""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items
from newinfra.policies.rules.data_security.iam_documents import (
    actions,
    allows,
    public_principal,
    resources,
    statements,
)
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import PolicyConfigSchema

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE = "aws:iam/role:Role"
ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")
# AWS-managed policies that grant '*' on everything or on IAM itself.
ADMIN_MANAGED = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")

# Actions that only read: allowed on Resource '*' (Describe* needs it for many services).
READ_PREFIXES = ("Get", "List", "Describe", "Head", "View", "Lookup", "Search", "Check")
IAM_SCHEMA = PolicyConfigSchema(
    properties={
        "sensitiveServices": {
            "type": "array", "items": {"type": "string", "minLength": 1},
            "default": ["ec2", "eks", "iam", "kms", "organizations", "s3", "secretsmanager", "ssm", "sts"],
            "description": "services on which 'service:*' or write actions on Resource '*' are findings",
        },
    }
)


def _service(action: str) -> str:
    return action.split(":", 1)[0].lower() if ":" in action else "*"


def _write(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return verb == "*" or not verb.startswith(READ_PREFIXES)


def document_problems(document: Any, sensitive: list[str], where: str) -> list[str]:
    problems = []
    for i, s in enumerate(statements(document)):
        if not allows(s) or s.get("Condition"):
            continue
        sid = f"{where} statement {s.get('Sid', i)!r}"
        acts = actions(s)
        if s.get("NotAction") is not None:
            problems.append(f"{sid} allows everything except {items(s.get('NotAction'))} (NotAction)")
        wild = [a for a in acts if a == "*" or (a.endswith(":*") and _service(a) in sensitive)]
        if wild:
            problems.append(f"{sid} allows {wild}")
        if "*" in resources(s):
            writes = sorted({a for a in acts if a not in wild and _service(a) in sensitive and _write(a)})
            if writes:
                problems.append(f"{sid} allows write actions {writes} on Resource '*'")
    return problems


def _unreadable(document: Any) -> bool:
    # An empty document is what an unanswered get_policy_document invoke leaves offline: no verdict, say so.
    return isinstance(document, str) and not document.strip()


def _policy(p: Any, c) -> list[str]:
    if _unreadable(get(p, "policy")):
        raise ValueError("the policy document is empty (an invoke such as get_policy_document the offline "
                         "engine did not answer?)")
    return document_problems(get(p, "policy"), c["sensitiveServices"], "policy")


def _admin_arns(arns: list[Any]) -> list[str]:
    return [str(a) for a in arns if isinstance(a, str) and a.startswith("arn:aws:iam::aws:policy/")
            and a.rsplit("/", 1)[-1] in ADMIN_MANAGED]


def _attachment(p: Any, _c) -> list[str]:
    bad = _admin_arns([get(p, "policyArn")])
    return [f"attaches the AWS-managed {bad[0].rsplit('/', 1)[-1]}"] if bad else []


def _role(p: Any, c) -> list[str]:
    problems = [f"managedPolicyArns attach {', '.join(a.rsplit('/', 1)[-1] for a in bad)}"]\
        if (bad := _admin_arns(items(get(p, "managedPolicyArns")))) else []
    for inline in items(get(p, "inlinePolicies")):
        problems += document_problems(get(inline, "policy"), c["sensitiveServices"],
                                      f"inline policy {get(inline, 'name', '?')!r}")
    return problems


iam_no_wildcards = table_rule(
    "iam-no-wildcard-permissions",
    "IAM policies grant named actions: no '*' or 'service:*' on sensitive services (sensitiveServices), no "
    "write actions of those services on Resource '*', no Allow with NotAction, unless a Condition scopes the "
    "statement, and no AWS-managed AdministratorAccess / IAMFullAccess / PowerUserAccess attachment. Fix: list "
    "the actions the workload calls and the ARNs it touches (e.g. 's3:GetObject' on 'arn:aws:s3:::bucket/*').",
    {POLICY: _policy, ROLE_POLICY: _policy, USER_POLICY: _policy, GROUP_POLICY: _policy, ROLE: _role,
     **{a: _attachment for a in ATTACHMENTS}},
    IAM_SCHEMA,
)


def _trust(p: Any, _c) -> list[str]:
    bad = [s.get("Sid", i) for i, s in enumerate(statements(get(p, "assumeRolePolicy")))
           if allows(s) and public_principal(s) and not s.get("Condition")]
    return [f"assumeRolePolicy statements {bad} let any AWS principal ('*') assume the role without a "
            "Condition"] if bad else []


iam_no_public_trust = table_rule(
    "iam-no-public-trust",
    "No role can be assumed by everyone. Fix: name the trusted principals in assumeRolePolicy (an account, a "
    "role ARN, a service, an OIDC provider with sub/aud conditions) or add a Condition such as "
    "aws:PrincipalOrgID.",
    {ROLE: _trust},
)

POLICIES = [iam_no_wildcards, iam_no_public_trust]
