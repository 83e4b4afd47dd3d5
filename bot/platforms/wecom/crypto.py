"""WeCom's callback crypto (回调和回复的加解密方案), as WeCom documents it:

- msg_signature = SHA1 of the token, timestamp, nonce and ciphertext, sorted as strings
  and joined;
- AESKey = Base64_Decode(EncodingAESKey + "="): the 43-character key is 32 bytes;
- ciphertext = Base64(AES-256-CBC(random 16 bytes + 4-byte big-endian length + message +
  receive id)), IV = the key's first 16 bytes, PKCS#7 padding to a multiple of 32 bytes
  (not AES's 16: WeCom's own libraries pad to 32);
- the receive id is "" for an enterprise's own intelligent robot.

https://developer.work.weixin.qq.com/document/path/101033 (the robot) and
https://developer.work.weixin.qq.com/document/path/90968 (the scheme, with its sample).
The AES itself is the `cryptography` package's; only WeCom's framing is written here.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from typing import Dict, Optional

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ENCODING_AES_KEY_LENGTH = 43
PADDING_BITS = 256  # WeCom pads to 32-byte blocks
RANDOM_PREFIX = 16
LENGTH_FIELD = 4
# An intelligent robot of the enterprise's own has no receive id (101033: ReceiveId 为 "").
ROBOT_RECEIVE_ID = ""


class CryptoError(Exception):
    """A callback we cannot trust or read; `status` is the HTTP answer it deserves."""

    status = 400


class SignatureMismatch(CryptoError):
    status = 401


class Undecryptable(CryptoError):
    status = 400


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind the admin console's 43-character EncodingAESKey."""
    if len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
        raise ValueError(f"the EncodingAESKey must be {ENCODING_AES_KEY_LENGTH} characters, "
                         f"not {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("the EncodingAESKey must be letters and digits only") from exc
    if len(key) != 32:
        raise ValueError("the EncodingAESKey does not decode to a 32-byte key")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature: SHA1 over the four values sorted as strings and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


class WeComCrypto:
    """Checks, opens and seals one robot's callbacks and passive replies."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = ROBOT_RECEIVE_ID) -> None:
        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.receive_id = receive_id.encode("utf-8")

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def check_signature(self, given: Optional[str], timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not given or not hmac.compare_digest(given.strip().lower(), expected):
            raise SignatureMismatch("bad msg_signature: expected the SHA1 of the sorted token, timestamp, "
                                    "nonce and ciphertext")

    def encrypt(self, message: bytes, random_prefix: Optional[bytes] = None) -> str:
        """The Base64 ciphertext of `message` (random_prefix: for reproducing a sample only)."""
        prefix = os.urandom(RANDOM_PREFIX) if random_prefix is None else random_prefix
        if len(prefix) != RANDOM_PREFIX:
            raise ValueError(f"the random prefix is {RANDOM_PREFIX} bytes")
        framed = prefix + struct.pack(">I", len(message)) + message + self.receive_id
        padder = padding.PKCS7(PADDING_BITS).padder()
        padded = padder.update(framed) + padder.finalize()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside a ciphertext, checked to be framed for this robot."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Undecryptable("the ciphertext is not Base64") from exc
        if not raw or len(raw) % 32:
            raise Undecryptable("the ciphertext is not whole 32-byte blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        try:
            unpadder = padding.PKCS7(PADDING_BITS).unpadder()
            framed = unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            raise Undecryptable("the ciphertext does not decrypt with this EncodingAESKey (bad padding)") from exc
        return self._unframe(framed)

    def _unframe(self, framed: bytes) -> bytes:
        body = framed[RANDOM_PREFIX:]
        if len(body) < LENGTH_FIELD:
            raise Undecryptable("the decrypted message is too short")
        (length,) = struct.unpack(">I", body[:LENGTH_FIELD])
        message, receive_id = body[LENGTH_FIELD:LENGTH_FIELD + length], body[LENGTH_FIELD + length:]
        if len(message) != length:
            raise Undecryptable("the decrypted message is shorter than its length field says")
        if not hmac.compare_digest(receive_id, self.receive_id):
            raise Undecryptable("the message was encrypted for another receive id")
        return message

    def open(self, given_signature: Optional[str], timestamp: str, nonce: str, encrypted: str) -> bytes:
        """Signature first, then decryption: nothing unsigned is ever decrypted."""
        self.check_signature(given_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def seal(self, message: bytes, nonce: str, timestamp: Optional[str] = None) -> Dict[str, str]:
        """A passive reply body: {"encrypt", "msgsignature", "timestamp", "nonce"}."""
        timestamp = timestamp or str(int(time.time()))
        encrypted = self.encrypt(message)
        return {"encrypt": encrypted, "msgsignature": signature(self.token, timestamp, nonce, encrypted),
                "timestamp": timestamp, "nonce": nonce}
