"""WeCom's callback crypto against WeCom's own published samples, and against the fake
WeCom (an independent implementation of the same documented scheme)."""
import base64
import json

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.platforms.wecom.crypto import SignatureMismatch, Undecryptable, WeComCrypto, aes_key, signature
from tests.fakes.wecom import WeComScheme

# The sample of WeCom's 加解密方案说明 (https://developer.work.weixin.qq.com/document/path/90968)
# and of its WXBizMsgCrypt libraries' Sample files (the same values in each language).
SAMPLE_TOKEN = "QDG6eK"
SAMPLE_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SAMPLE_RECEIVE_ID = "wx5823bf96d3bd56c7"
VERIFY = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
          "nonce": "263014780",
          "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}
MESSAGE = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
           "nonce": "1372623149",
           "encrypt": "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911"
                      "L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DO"
                      "dnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH"
                      "03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo"
                      "6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+"
                      "qN+E7Q=="}
ROBOT_TOKEN = "robot-token"
ROBOT_KEY = base64.b64encode(bytes(range(1, 33))).decode().rstrip("=")  # 43 characters


def sample() -> WeComCrypto:
    return WeComCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_RECEIVE_ID)


def test_the_published_url_verification_sample_opens():
    echo = sample().open(VERIFY["msg_signature"], VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"])
    assert echo == b"1616140317555161061"


def test_the_published_message_sample_opens_with_its_signature():
    assert signature(SAMPLE_TOKEN, MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"]) \
        == MESSAGE["msg_signature"]
    message = sample().open(MESSAGE["msg_signature"], MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"])
    assert b"<Content><![CDATA[hello]]></Content>" in message
    assert b"<MsgId>4561255354251345929</MsgId>" in message


def test_the_fake_wecom_opens_the_published_samples_too():
    scheme = WeComScheme(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_RECEIVE_ID)
    assert scheme.decrypt(VERIFY["echostr"]) == (b"1616140317555161061", SAMPLE_RECEIVE_ID.encode())
    assert scheme.sign(MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"]) == MESSAGE["msg_signature"]


def test_the_sample_is_for_its_receive_id_only():
    """The intelligent robot's receive id is "": a ciphertext for a corp id is refused."""
    with pytest.raises(Undecryptable, match="receive id"):
        WeComCrypto(SAMPLE_TOKEN, SAMPLE_KEY).decrypt(MESSAGE["encrypt"])


def test_our_replies_open_at_wecom_and_wecom_callbacks_open_here():
    ours, theirs = WeComCrypto(ROBOT_TOKEN, ROBOT_KEY), WeComScheme(ROBOT_TOKEN, ROBOT_KEY)
    message = json.dumps({"msgtype": "stream", "stream": {"content": "您好 👋"}}, ensure_ascii=False).encode()
    sealed = ours.seal(message, "nonce-1")
    assert theirs.sign(sealed["timestamp"], "nonce-1", sealed["encrypt"]) == sealed["msgsignature"]
    assert theirs.decrypt(sealed["encrypt"]) == (message, b"")
    encrypted = theirs.encrypt(message)
    assert ours.open(theirs.sign("1700000000", "n", encrypted), "1700000000", "n", encrypted) == message


@pytest.mark.parametrize("length", [0, 1, 11, 12, 13, 43, 44, 1000])
def test_padding_is_pkcs7_to_32_bytes(length):
    crypto = WeComCrypto(ROBOT_TOKEN, ROBOT_KEY)
    raw = base64.b64decode(crypto.encrypt(b"x" * length))
    assert len(raw) % 32 == 0
    decryptor = Cipher(algorithms.AES(aes_key(ROBOT_KEY)), modes.CBC(aes_key(ROBOT_KEY)[:16])).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    framed = 16 + 4 + length  # random bytes, length field, message, empty receive id
    pad = 32 - framed % 32
    assert plain[-pad:] == bytes([pad]) * pad and len(plain) == framed + pad
    assert plain[16:20] == length.to_bytes(4, "big")


def test_a_wrong_signature_is_refused_before_decrypting():
    with pytest.raises(SignatureMismatch):
        sample().open("0" * 40, MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"])
    with pytest.raises(SignatureMismatch):
        sample().open(None, MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE["encrypt"])


@pytest.mark.parametrize("ciphertext", ["not base64 !", "", base64.b64encode(b"x" * 20).decode(),
                                        base64.b64encode(b"x" * 64).decode()])
def test_what_does_not_decrypt_is_undecryptable(ciphertext):
    with pytest.raises(Undecryptable):
        WeComCrypto(ROBOT_TOKEN, ROBOT_KEY).decrypt(ciphertext)


def test_another_key_does_not_decrypt():
    other = base64.b64encode(bytes(range(2, 34))).decode().rstrip("=")
    encrypted = WeComCrypto(ROBOT_TOKEN, other).encrypt(b'{"msgtype": "text"}')
    with pytest.raises(Undecryptable):
        WeComCrypto(ROBOT_TOKEN, ROBOT_KEY).decrypt(encrypted)


@pytest.mark.parametrize("key", ["", "short", SAMPLE_KEY + "A", SAMPLE_KEY[:-1] + "!"])
def test_the_encoding_aes_key_must_be_43_base64_characters(key):
    with pytest.raises(ValueError):
        aes_key(key)
