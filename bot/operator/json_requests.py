"""What the operator API's service modules share about requests and refusals: a refused
change carries its HTTP status and the request field at fault, and every route reads its
body and required fields the same way (teams, canned replies ...)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Type

from sanic import response


class RefusedChange(ValueError):
    """A refused change: `status` is what the API answers (400 invalid, 404 not found, 409
    not possible now) and `field` the request field at fault."""

    def __init__(self, message: str, field: Optional[str] = None, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def refusal_json(error: RefusedChange) -> response.HTTPResponse:
    body = {"error": error.message, **({"field": error.field} if error.field else {})}
    return response.json(body, status=error.status, ensure_ascii=False)


def body_of(request, refusal: Type[RefusedChange] = RefusedChange) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # Sanic raises on malformed JSON
        raise refusal("body is not valid JSON")
    if not isinstance(body, dict):
        raise refusal("body must be a JSON object")
    return body


def required(body: Dict[str, Any], name: str, refusal: Type[RefusedChange] = RefusedChange) -> Any:
    if name not in body:
        raise refusal(f"{name} is required", name)
    return body[name]


def answer(payload: Any, status: int = 200) -> response.HTTPResponse:
    return response.json(payload, status=status, ensure_ascii=False)
