"""Encrypted callback messages in the WeCom style (WXBizMsgCrypt), as Yiwise's 2023 callback protocol uses them.

Pure code, no I/O. The scheme:

- the key is the receiver's 43-character EncodingAESKey, base64 without its trailing `=`: 32 bytes, AES-256;
  the IV is the key's first 16 bytes;
- the plain text is 16 random ASCII characters, the message length as 4 bytes big-endian, the UTF-8 message,
  then the receive id (empty here); it is padded PKCS#7-style to a multiple of 32 bytes (1 to 32 bytes, each
  the pad length) and encrypted with AES-CBC, no further padding; the cipher text travels in base64;
- `msg_signature` = lowercase hex SHA-1 of the token, the timestamp, the nonce and the cipher text, sorted
  as strings and concatenated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_LENGTH = 43
BLOCK = 32  # the padding block of the scheme (not AES's 16)
_RANDOM_ALPHABET = string.ascii_letters + string.digits


class MsgCryptError(ValueError):
    """A key, signature or cipher text that the scheme cannot use."""


def decode_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of an EncodingAESKey. Raises MsgCryptError naming what is wrong."""
    if len(encoding_aes_key) != KEY_LENGTH:
        raise MsgCryptError(f"the AES key must be {KEY_LENGTH} characters, not {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise MsgCryptError("the AES key is not base64") from exc
    if len(key) != 32:
        raise MsgCryptError("the AES key must decode to 32 bytes")
    return key


def new_key() -> str:
    """A random EncodingAESKey."""
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode("utf-8")).hexdigest()


def random_text(length: int = 16) -> str:
    return "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(length))


class MsgCrypt:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = "") -> None:
        self.token = token
        self.key = decode_key(encoding_aes_key)
        self.receive_id = receive_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, random: str | None = None) -> str:
        """The base64 cipher text of `message` (`random`: the 16 leading characters, random by default)."""
        text = message.encode("utf-8")
        plain = (random or random_text()).encode("ascii") + struct.pack(">I", len(text)) + text
        plain += self.receive_id.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside a base64 cipher text. Raises MsgCryptError."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error as exc:
            raise MsgCryptError("the cipher text is not base64") from exc
        if not data or len(data) % 16:
            raise MsgCryptError("the cipher text is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK:
            pad = 0
        plain = plain[: len(plain) - pad]
        if len(plain) < 20:
            raise MsgCryptError("the cipher text is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise MsgCryptError("the message length does not fit the cipher text")
        if plain[20 + length :].decode("utf-8", "replace") != self.receive_id:
            raise MsgCryptError("the receive id does not match")
        return plain[20 : 20 + length].decode("utf-8")

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> bool:
        expected = self.sign(timestamp, nonce, encrypted)
        return hmac.compare_digest(msg_signature.lower().encode(), expected.encode())


def envelope(encrypted: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The XML body of a POSTed message, the format of the vendor's demo (values inside CDATA as given)."""
    return (
        f"<xml>\n<Encrypt><![CDATA[{encrypted}]]></Encrypt>\n"
        f"<MsgSignature><![CDATA[{msg_signature}]]></MsgSignature>\n"
        f"<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
    )
