"""Server-wide HTTP behaviour of the Rasa server's Sanic app, set once at start-up by the
community channel (the one blueprint every installation mounts)."""
from __future__ import annotations

from sanic import response
from sanic.exceptions import MethodNotSupported

from bot.settings import Settings


def method_not_allowed(request, exception: MethodNotSupported) -> response.HTTPResponse:
    """405 with the Allow header (Sanic 21.12's JSON error page leaves it out), so a client
    learns which methods the route has."""
    allowed = exception.headers.get("Allow", "")
    return response.json({"error": f"{request.method} is not allowed here; allowed: {allowed}"}, status=405,
                         headers={"Allow": allowed})


def configure(app, settings: Settings) -> None:
    # Sanic would read up to 100 MB of any request before a route could refuse it; now a
    # body over the largest request any route accepts is refused (413) as soon as its
    # Content-Length (or its first bytes past the limit) arrive.
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes
    app.error_handler.add(MethodNotSupported, method_not_allowed)
