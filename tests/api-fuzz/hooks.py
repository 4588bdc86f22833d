"""Custom checks for tests/api-fuzz/schemathesis.mjs, loaded through SCHEMATHESIS_HOOKS.

Two operations may answer 400 to schema-valid data, for a reason no JSON
schema can state, and schemathesis.toml lets a 400 through for them alone:

- POST /api/v1/calls: Tencent (here the emulator) refuses some starts, such as
  a robot whose only callee is itself ({"robot":"0","callees":["0"]}: 101002),
  and the edge answers 400 `upstream_invalid_parameter`;
- GET /api/v1/live/calls: a `cursor` the edge did not make (any string is
  schema-valid) answers 400 `invalid_cursor`.

This check then makes sure that such a 400 is that one refusal, never another.
"""

import schemathesis

# (method, path) -> (the code, the query parameter it needs, if any).
KNOWN_REFUSALS = {
    ("POST", "/api/v1/calls"): ("upstream_invalid_parameter", None),
    ("GET", "/api/v1/live/calls"): ("invalid_cursor", "cursor"),
}


@schemathesis.check
def schema_valid_refused_only_for_known_reasons(ctx, response, case):
    known = KNOWN_REFUSALS.get((case.operation.method.upper(), case.operation.path))
    meta = case.meta
    if known is None or meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = response.json().get("code")
    except Exception:  # noqa: BLE001 - any unreadable body is the failure itself
        code = None
    expected, needs = known
    if code != expected or (needs is not None and needs not in (case.query or {})):
        raise AssertionError(
            f"A schema-valid {case.operation.method.upper()} {case.operation.path} was refused 400 {code!r}: "
            f"only {expected!r} may refuse one"
        )
    return None
