"""A stand-in for WeCom's side of an intelligent robot in API (webhook) mode.

- `FakeWeCom` encrypts and signs callbacks the way WeCom does (its own implementation of
  the scheme, written from the documentation and checked against WeCom's published sample
  vectors in tests/test_wecom_crypto.py, so the adapter is not tested against itself), posts
  them to the adapter, and opens the adapter's encrypted passive replies;
- `FakeResponseUrls` plays https://qyapi.weixin.qq.com/cgi-bin/aibot/response: each
  response_code takes one message (https://developer.work.weixin.qq.com/document/path/101138);
  and /cgi-bin/webhook/send?key= (a group's 消息推送 robot, /document/path/91770): keys
  registered with `push_key()` take markdown messages, others get errcode 93000.

Callback JSON as in /document/path/100719; the transport as in /document/path/101033:
POST <url>?msg_signature=&timestamp=&nonce= with {"encrypt": ...}, GET with echostr.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class WeComScheme:
    """回调和回复的加解密方案, step by step as the documentation states it."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = "") -> None:
        self.token = token
        self.key = base64.b64decode(encoding_aes_key + "=")  # AESKey = Base64_Decode(EncodingAESKey + "=")
        self.receive_id = receive_id.encode()

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        # token, timestamp, nonce, msg_encrypt sorted lexicographically, joined, SHA1
        return hashlib.sha1("".join(sorted([self.token, timestamp, nonce, encrypted])).encode()).hexdigest()

    def encrypt(self, msg: bytes) -> str:
        # random(16B) + msg_len(4B, network order) + msg + receiveid, PKCS#7 to 32 bytes,
        # AES-256-CBC with IV = the key's first 16 bytes, then Base64
        plain = secrets.token_bytes(16) + struct.pack("!I", len(msg)) + msg + self.receive_id
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> Tuple[bytes, bytes]:
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        rand_msg = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        rand_msg = rand_msg[:-rand_msg[-1]]
        content = rand_msg[16:]
        msg_len = struct.unpack("!I", content[:4])[0]
        return content[4:4 + msg_len], content[4 + msg_len:]


class FakeResponseUrls:
    """Receives the robot's later replies; a response_code works once (a reuse is refused;
    WeCom does not document the error code for it, so the one here is a stand-in)."""

    def __init__(self) -> None:
        self.received: List[Dict[str, Any]] = []  # {"code", "body"}
        self.used = set()
        self.busy_next = 0  # answer errcode -1 (system busy) to the next N posts
        self.pushed: Dict[str, List[str]] = {}  # push key -> markdown contents posted to the group
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(parts.query)
                if parts.path == "/cgi-bin/webhook/send":
                    answer = fake._push((query.get("key") or [""])[0], body)
                else:
                    answer = fake._answer((query.get("response_code") or [""])[0], body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _answer(self, code: str, body: bytes) -> Dict[str, Any]:
        with self._lock:
            if self.busy_next > 0:
                self.busy_next -= 1
                return {"errcode": -1, "errmsg": "system busy"}
            if not code or code in self.used:
                return {"errcode": 40001, "errmsg": "invalid response_code (stand-in: used or unknown)"}
            message = json.loads(body)
            if message.get("msgtype") != "markdown" or not message.get("markdown", {}).get("content"):
                return {"errcode": 40008, "errmsg": "invalid message type"}
            self.used.add(code)
            self.received.append({"code": code, "body": message})
            return {"errcode": 0, "errmsg": "ok"}

    def _push(self, key: str, body: bytes) -> Dict[str, Any]:
        with self._lock:
            if key not in self.pushed:
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            message = json.loads(body)
            content = (message.get("markdown") or {}).get("content") if message.get("msgtype") == "markdown" else None
            if not content or len(content.encode()) > 4096:
                return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
            self.pushed[key].append(content)
            return {"errcode": 0, "errmsg": "ok"}

    def push_key(self) -> str:
        """A new group robot's key (what its webhook URL ends with)."""
        key = str(uuid.uuid4())
        with self._lock:
            self.pushed[key] = []
        return key

    def new_url(self) -> str:
        return f"{self.base}/cgi-bin/aibot/response?response_code={uuid.uuid4().hex}"

    def texts_for(self, url: str) -> List[str]:
        code = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["response_code"][0]
        with self._lock:
            return [item["body"]["markdown"]["content"] for item in self.received if item["code"] == code]

    def wait_for(self, url: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts_for(url)
            if texts:
                return texts[0]
            time.sleep(0.1)
        raise AssertionError("nothing was posted to that response_url")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeWeCom:
    """Sends an intelligent robot's callbacks to the adapter as WeCom does."""

    def __init__(self, callback_url: str, token: str, encoding_aes_key: str, aibotid: str,
                 response_urls: Optional[FakeResponseUrls] = None) -> None:
        self.callback_url = callback_url
        self.scheme = WeComScheme(token, encoding_aes_key)
        self.aibotid = aibotid
        self.response_urls = response_urls

    # --- callbacks (100719) ------------------------------------------------------------------

    def text(self, content: str, user: str, group: Optional[str] = None, msgid: Optional[str] = None,
             quote: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        message = self._envelope(user, group, msgid, "text")
        message["text"] = {"content": content}
        if quote:
            message["quote"] = quote
        return message

    def mixed(self, items: List[Dict[str, Any]], user: str, group: Optional[str] = None) -> Dict[str, Any]:
        message = self._envelope(user, group, None, "mixed")
        message["mixed"] = {"msg_item": items}
        return message

    def image(self, user: str, group: Optional[str] = None) -> Dict[str, Any]:
        message = self._envelope(user, group, None, "image")
        message["image"] = {"url": "https://example.invalid/encrypted-image"}
        return message

    def enter_chat(self, user: str) -> Dict[str, Any]:
        return {"msgid": uuid.uuid4().hex, "create_time": int(time.time()), "aibotid": self.aibotid,
                "chattype": "single", "from": {"userid": user}, "msgtype": "event",
                "event": {"eventtype": "enter_chat"}}

    def _envelope(self, user: str, group: Optional[str], msgid: Optional[str], msgtype: str) -> Dict[str, Any]:
        message = {"msgid": msgid or uuid.uuid4().hex, "aibotid": self.aibotid,
                   "chattype": "group" if group else "single", "from": {"userid": user}, "msgtype": msgtype}
        if group:
            message["chatid"] = group
        if self.response_urls is not None:
            message["response_url"] = self.response_urls.new_url()
        return message

    # --- the transport (101033) --------------------------------------------------------------

    def signed_query(self, encrypted: str, timestamp: Optional[str] = None, signature: Optional[str] = None,
                     **extra: str) -> Dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = str(secrets.randbelow(10 ** 9))
        return {"msg_signature": signature or self.scheme.sign(timestamp, nonce, encrypted),
                "timestamp": timestamp, "nonce": nonce, **extra}

    def request(self, message: Dict[str, Any]) -> Tuple[Dict[str, str], bytes]:
        """The query and body WeCom posts for one callback (post the same again to retry it)."""
        encrypted = self.scheme.encrypt(json.dumps(message, ensure_ascii=False).encode())
        return self.signed_query(encrypted), json.dumps({"encrypt": encrypted}).encode()

    def post(self, message: Optional[Dict[str, Any]] = None, query: Optional[Dict[str, str]] = None,
             body: Optional[bytes] = None) -> Tuple[int, bytes]:
        if message is not None:
            query, body = self.request(message)
        return _http("POST", f"{self.callback_url}?{urllib.parse.urlencode(query)}", body)

    def verify_url(self, echo: str, signature: Optional[str] = None) -> Tuple[int, bytes]:
        encrypted = self.scheme.encrypt(echo.encode())
        query = self.signed_query(encrypted, signature=signature, echostr=encrypted)
        return _http("GET", f"{self.callback_url}?{urllib.parse.urlencode(query)}")

    def open_reply(self, body: bytes) -> Dict[str, Any]:
        """The adapter's passive reply, its signature checked as WeCom checks it."""
        reply = json.loads(body)
        assert self.scheme.sign(reply["timestamp"], reply["nonce"], reply["encrypt"]) == reply["msgsignature"]
        message, receive_id = self.scheme.decrypt(reply["encrypt"])
        assert receive_id == b""
        return json.loads(message)


def _http(method: str, url: str, body: Optional[bytes] = None) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
