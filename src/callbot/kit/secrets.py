"""Secrets at rest: vendor API secrets are encrypted (the server must recompute vendor signatures from
them); passwords and bearer tokens are only ever stored hashed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

_ALNUM = string.ascii_letters + string.digits


class SecretBox:
    """Symmetric encryption for secrets that must be readable again."""

    def __init__(self, key: str) -> None:
        # Any string works as a key: it is stretched to the 32 bytes Fernet wants.
        raw = hashlib.sha256(key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))
        self._raw = raw

    @classmethod
    def from_key_file(cls, path: Path) -> SecretBox:
        """Load the key from `path`, creating it (mode 0600) the first time."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
        return cls(path.read_text().strip())

    def derive(self, label: str) -> str:
        """A stable secret for one purpose (e.g. signing recording links), derived from the key."""
        return hmac.new(self._raw, label.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with this key (was CALLBOT_SECRET_KEY changed?)") from exc


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def random_letters(length: int, alphabet: str = string.ascii_letters) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def random_hex(length: int = 32) -> str:
    return secrets.token_hex(length // 2)


def token_digest(token: str) -> str:
    """Bearer tokens are long and random, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)
