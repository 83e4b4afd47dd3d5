"""Building blocks of both OpenAPI documents (agent and operator API): the error bodies,
the answers every authenticated route can give, and small helpers that keep each
operation to a line or two.

The documents promise integrators what every status code's body looks like, so that a
client (and schemathesis in tests/test_api_fuzz.py) can rely on them: every 4xx of ours
is `{"error": ..., "field"?: ..., "errors"?: [...]}`.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

Schema = Dict[str, Any]

# Sanic answers by itself before our code runs for a URL that matches no route (e.g. a
# ticket id that is not a number) and a method the route does not have: HTML, or JSON
# shaped like this when the client asked for JSON.
FRAMEWORK_ERROR: Schema = {
    "type": "object", "required": ["description", "status", "message"],
    "description": "The web framework's own error, for a URL or method no route serves",
    "properties": {"description": {"type": "string"}, "status": {"type": "integer"},
                   "message": {"type": "string"}}}

ERROR: Schema = {
    "type": "object", "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what is wrong, in words for the person who sent it"},
        "field": {"type": "string", "description": "the request field that is wrong, when one is"},
        "errors": {"type": "array", "items": {"type": "string"},
                   "description": "every problem found (a change that fails validation)"}}}

THROTTLED: Schema = {
    "type": "object", "required": ["error", "retry_after"],
    "properties": {"error": {"type": "string"},
                   "retry_after": {"type": "integer", "minimum": 1, "description": "seconds to wait"}}}

SCHEMAS: Schema = {"Error": ERROR, "Throttled": THROTTLED, "FrameworkError": FRAMEWORK_ERROR}

COOKIE = "agent_session"
SECURITY_SCHEMES: Schema = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "the token from the login operation: `Authorization: Bearer <token>`"},
    "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE,
               "description": "the consoles' session cookie (same token). A POST, PUT or DELETE authenticated "
                              "by the cookie must come from this server's own pages (Origin or Referer), or it "
                              "is refused with 403"}}
SIGNED_IN = [{"bearer": []}, {"cookie": []}]
CROSS_SITE_LOGIN = "a login posted by a page of another site (its Origin or Referer is not this server's)"

# Sanic's int route parameter: an optional minus and digits.
ID_PATTERN = r"^-?[0-9]+$"
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
LANGUAGE: Schema = {"type": "string", "enum": ["en", "zh"]}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null, spelled so that OpenAPI 3.0 tools agree: a `$ref` takes no
    siblings (so it goes under allOf), and an enum must list null itself."""
    if "$ref" in schema:
        return {"nullable": True, "allOf": [schema]}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], "nullable": True}
    return {**schema, "nullable": True}


def obj(properties: Schema, required: Optional[Iterable[str]] = None, **extra: Any) -> Schema:
    """An object schema; every property is required unless `required` says otherwise (our
    response bodies always carry every key, null when there is no value)."""
    names = list(properties) if required is None else list(required)
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if names:
        schema["required"] = names
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def path_id(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2 ** 63 - 1}}


def json_body(schema: Schema, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def form_body(schema: Schema) -> Schema:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def ok(description: str, schema: Schema, headers: Optional[Schema] = None) -> Schema:
    answer: Schema = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def error(description: str) -> Schema:
    return ok(description, ref("Error"))


def html(description: str, headers: Optional[Schema] = None) -> Schema:
    answer: Schema = {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}
    if headers:
        answer["headers"] = headers
    return answer


def header(description: str, schema: Optional[Schema] = None) -> Schema:
    return {"description": description, "required": True, "schema": schema or {"type": "string"}}


RETRY_AFTER = {"Retry-After": header("seconds until another login may be tried",
                                     {"type": "string", "pattern": "^[0-9]+$"})}
SET_COOKIE = {"Set-Cookie": header(f"the session cookie `{COOKIE}` (HttpOnly, SameSite=Strict)")}
LOCATION = {"Location": header("where the browser goes next")}

NOT_FOUND: Schema = {
    "description": "no such item; or, from the framework, a URL no route serves (e.g. an id that is not a "
                   "whole number)",
    "content": {"application/json": {"schema": {"anyOf": [ref("Error"), ref("FrameworkError")]}},
                "text/html": {"schema": {"type": "string"}}}}

STANDARD_ERRORS: Dict[int, Schema] = {
    400: error("invalid input: `error` says what is wrong and `field` which field; nothing is changed"),
    401: error("not logged in: no valid token, an expired one, or an account of the other role"),
    403: error("refused: a cross-site request authenticated by the cookie (send it from this server's "
               "pages, or use the bearer token)"),
    404: NOT_FOUND,
    409: error("not possible in the current state"),
    413: error("the body is larger than MAX_API_BODY_BYTES, or a text is longer than its limit"),
    422: error("the change fails validation: `errors` lists every finding; nothing is written"),
    429: ok("too many failed logins for this account or from this address", ref("Throttled"), RETRY_AFTER),
    503: error("the assistant could not do it just now; nothing changed: try again"),
}


def operation(summary: str, responses: Dict[int, Schema], body: Optional[Schema] = None,
              params: Optional[list] = None, errors: Iterable[int] = (), signed_in: bool = True,
              description: str = "", tags: Optional[list] = None) -> Schema:
    """One operation: its own success answers, plus the standard error answers listed in
    `errors` (`signed_in` adds 401; a state-changing signed-in one also 403 and 413, the
    cookie check and the body limit every such route applies)."""
    codes = set(errors)
    if signed_in:
        codes.add(401)
    all_responses = {str(code): answer for code, answer in responses.items()}
    for code in sorted(codes):
        all_responses.setdefault(str(code), STANDARD_ERRORS[code])
    result: Schema = {"summary": summary, "responses": all_responses}
    if description:
        result["description"] = description
    if tags:
        result["tags"] = tags
    if not signed_in:
        result["security"] = []
    if body is not None:
        result["requestBody"] = body
    if params:
        result["parameters"] = params
    return result


def changing(summary: str, responses: Dict[int, Schema], errors: Iterable[int] = (), **rest: Any) -> Schema:
    """A signed-in POST, PUT or DELETE: besides `errors`, the cookie check (403) and the
    body limit (413) apply."""
    return operation(summary, responses, errors=set(errors) | {403, 413}, **rest)
