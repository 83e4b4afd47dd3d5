"""The action server: rasa_sdk's server for our `actions` package, closed to everyone but
the Rasa server.

rasa_sdk's own `python -m rasa_sdk` has no authentication, allows every CORS origin and
binds to 0.0.0.0 unless SANIC_HOST says otherwise: anyone who can reach the port can POST
a forged tracker and read any member's points and orders. This entry point serves the
same app (same routes, same executor) with three differences:

- it listens on ACTION_HOST (loopback by default), not on BOT_HOST;
- every route but /health needs the shared secret ACTION_SERVER_TOKEN, which the Rasa
  server sends as `Authorization: Bearer <token>` (endpoints.yml); rasa's `token:` query
  parameter is accepted too; anything else gets 401;
- no CORS headers (browsers have no business calling it), and a request body limit.

Run: `python -m bot.runtime.action_server --port 5055` (`python -m bot serve` does).
"""
from __future__ import annotations

import argparse
import hmac
import logging
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# The largest action call we expect: the tracker's last 40 events, the latest message and
# slots, plus the whole domain for the one action that asks for it (~60 KB today).
MAX_REQUEST_BYTES = 4 * 1024 * 1024
OPEN_PATHS = frozenset({"/health"})


def presented_token(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.args.get("token")


def is_authorised(request: Request, token: str) -> bool:
    presented = presented_token(request)
    return bool(presented) and hmac.compare_digest(presented.encode(), token.encode())


def create_app(settings: Settings, actions_package: str = "actions") -> Sanic:
    """rasa_sdk's app for `actions_package`, behind the shared-secret check."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    app = create_sdk_app(actions_package, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
    token = settings.action_server_token

    @app.middleware("request")
    async def require_token(request: Request):
        if request.path in OPEN_PATHS or is_authorised(request, token):
            return None
        return response.json({"error": "the action server needs the shared secret ACTION_SERVER_TOKEN "
                                       "(Authorization: Bearer <token>)"}, status=401)

    return app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.runtime.action_server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=None, help="default: ACTION_PORT")
    parser.add_argument("--host", default=None, help="default: ACTION_HOST")
    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    host, port = args.host or settings.action_host, args.port or settings.action_port
    logger.info("Action server on http://%s:%s (shared secret required)", host, port)
    app.run(host, port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
