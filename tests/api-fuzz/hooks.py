"""Custom checks for tests/api-fuzz/schemathesis.mjs, loaded through SCHEMATHESIS_HOOKS.

Tencent (here the emulator) refuses some schema-valid starts, such as a robot
whose only callee is itself ({"robot":"0","callees":["0"]}: 101002), and the
edge answers those 400 `upstream_invalid_parameter`. schemathesis.toml lets a
400 through for POST /api/v1/calls alone; this check then makes sure that a
400 to schema-valid data is that one refusal, never the edge's own.
"""

import schemathesis


@schemathesis.check
def start_call_refused_only_by_tencent(ctx, response, case):
    if case.operation.method.upper() != "POST" or case.operation.path != "/api/v1/calls":
        return None
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = response.json().get("code")
    except Exception:  # noqa: BLE001 - any unreadable body is the failure itself
        code = None
    if code != "upstream_invalid_parameter":
        raise AssertionError(
            f"A schema-valid start was refused 400 {code!r}: only Tencent may refuse one (upstream_invalid_parameter)"
        )
    return None
