"""Project hooks for schemathesis against portal-local (tests/contract/run).

* `refusals_depend_on_stored_state`: a schema-valid (positive) request may be
  refused only for a reason the document says depends on stored records, by
  problem type and, for 422, by the fields and messages named; anything else
  means the document is looser than the API (a finding).
* `Idempotency-Key` values are left as generated: the one login of the run
  reuses some (hypothesis likes "0"), so some requests are replays (2xx) or
  key reuses (422/409, stored state, allowed below).
* In positive requests, characters outside the Basic Multilingual Plane
  (most emoji) become `é`: the API counts lengths as Salesforce does, in
  UTF-16 code units (the document says so in each description and in
  `x-maxLengthUtf16`), while JSON Schema's `maxLength` counts characters, so
  such a string at the limit is valid to the schema and too long for
  Salesforce. The swap keeps the string valid to the schema (same count of
  characters, none of them controls). The Rust suite tests those lengths.
* Positive ID documents get a real PNG signature before their random bytes:
  "JPEG, PNG or PDF by its bytes" cannot be said in JSON Schema (the
  document says it in words), so random bytes would be refused for that.
* Half the positive SIM/VPN orders (by their first item's quantity) name a
  plan of the price book (`CONTRACT_PLANS`, read from `GET /catalog` by
  `run`) as their only item: random ids are never in the price book, and
  without a placed order the stateful link from `POST /orders` to
  `GET /orders/{orderId}` would never be followed.
"""


import json
import os

import schemathesis
from schemathesis import Case, Response

PNG = b"\x89PNG\r\n\x1a\n"
PREFIX = "urn:portal:problem:"
PLANS = json.loads(os.environ.get("CONTRACT_PLANS") or "{}")

# Problem types a positive request may get on every POST (stored state: keys,
# per-login counters).
ANY_POST = {"idempotency-key-reused", "idempotency-key-in-use", "too-many-requests"}

# Per operation: the stored-state problem types, and for `validation-failed`
# the (field pattern, message prefix) pairs that depend on stored state or
# on the clock.
STATEFUL = {
    ("POST", "/orders"): (
        {"eligibility-not-checked", "application-not-ready"},
        [("items[", "is not a product that can be ordered"),
         ("items[", "is not a "),
         # Cross-field: JSON Schema cannot state that one member is unique.
         ("items[", "appears more than once")],
    ),
    ("POST", "/cancellations"): (
        {"not-found", "service-not-active", "cancellation-in-progress"},
        # "must be today (YYYY-MM-DD) or later": it depends on the clock.
        [("cancellationDate", "must be today")],
    ),
    ("POST", "/registrations"): (
        {"customer-number-taken", "registration-in-progress"},
        [("customerNumber", "does not match any customer account")],
    ),
    ("POST", "/id-verifications"): ({"already-verified"}, []),
    ("GET", "/orders/{orderId}"): ({"not-found"}, []),
}


def _positive(case: Case) -> bool:
    """Every part of the case is schema-valid (a case may mix a valid body
    with an invalid header)."""
    meta = case.meta
    return (
        meta is not None
        and meta.generation.mode.is_positive
        and all(c.mode.is_positive for c in meta.components.values())
    )



def _bmp_only(value):
    if isinstance(value, str):
        return "".join("\u00e9" if ord(c) > 0xFFFF else c for c in value)
    if isinstance(value, dict):
        return {k: _bmp_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bmp_only(v) for v in value]
    return value


@schemathesis.hook
def map_case(context, case: Case) -> Case:
    if not _positive(case):
        return case
    if isinstance(case.body, (dict, list, str)):
        case.body = _bmp_only(case.body)
    if case.path == "/orders" and case.method.upper() == "POST" and isinstance(case.body, dict):
        plan = PLANS.get(case.body.get("commodityType"))
        items = case.body.get("items")
        if plan and isinstance(items, list) and items and isinstance(items[0], dict):
            if int(items[0].get("quantity", 0)) % 2 == 1:
                case.body["items"] = [{**items[0], "productId": plan}]
    if case.path == "/id-verifications" and isinstance(case.body, dict):
        documents = case.body.get("documents")
        if isinstance(documents, list):
            case.body["documents"] = [
                PNG + (d if isinstance(d, bytes) else str(d).encode()) for d in documents
            ]
    return case


@schemathesis.check
def refusals_depend_on_stored_state(ctx, response: Response, case: Case):
    if not _positive(case) or not 400 <= response.status_code < 500:
        return None
    try:
        problem = response.json()
    except Exception:  # noqa: BLE001 - any non-JSON refusal is a finding
        raise AssertionError(f"a refusal that is not problem+json: {response.text[:200]}")
    code = str(problem.get("type", "")).removeprefix(PREFIX)
    types, fields = STATEFUL.get((case.method.upper(), case.path), (set(), []))
    allowed = types | (ANY_POST if case.method.upper() == "POST" else set())
    if code in allowed:
        return None
    if code == "validation-failed" and fields:
        errors = problem.get("errors") or []
        stateful = [
            e for e in errors
            if any(e.get("field", "").startswith(f) and e.get("message", "").startswith(m) for f, m in fields)
        ]
        if errors and len(stateful) == len(errors):
            return None
    raise AssertionError(
        f"a schema-valid request was refused for a reason the document does not state: "
        f"{response.status_code} {code}: {problem.get('detail')} {problem.get('errors')}"
    )


@schemathesis.hook
def filter_failure(context, failure, case: Case, response: Response) -> bool:
    """Keeps every failure but one kind: "negative data accepted" for the ID
    documents' form when schemathesis finds no invalid part in what it sent.
    A form carries every value as text, so a mutation of a field's JSON type
    (a number for `notes`, say) is not observable after encoding: what
    arrives is a valid form. A mutation that does show (an unknown
    `documentType`, a missing file, a third file, an unknown part) is refused
    and still checked."""
    if case.path == "/id-verifications" and type(failure).__name__ == "AcceptedNegativeData":
        message = str(getattr(failure, "message", ""))
        return "positive test case" not in message and "violates `type`" not in message
    return True
