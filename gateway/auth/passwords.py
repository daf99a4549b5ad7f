"""Password hashing (scrypt, stdlib) and the password policy.

A hash is stored as `scrypt$n$r$p$salt_b64$hash_b64`, so that the cost can be raised later
without invalidating the hashes already stored: each is verified with its own parameters.
Hashing takes ~50 ms of CPU and 16 MiB on purpose; async callers run it in a thread
(`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N = 2**14  # CPU/memory cost: 128·r·n bytes = 16 MiB per hash
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Refuse to verify against parameters nobody here would have chosen (a tampered row must
# not make one login eat the machine's memory).
MAX_N = 2**20
MAX_R = 32
MAX_P = 16
MAX_MEMORY = 256 * 1024 * 1024

MIN_LENGTH = 10
MAX_LENGTH = 1024


class PasswordPolicyError(ValueError):
    """The password is too weak; the message says why (safe to show to the user)."""


def check_policy(password: str, *, username: str | None = None) -> None:
    """Raise PasswordPolicyError unless `password` is acceptable for an account."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password has at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"a password has at most {MAX_LENGTH} characters")
    if password.isdigit():
        raise PasswordPolicyError("a password is not made of digits only")
    if not password.strip():
        raise PasswordPolicyError("a password is not made of spaces only")
    if username is not None and password.casefold() == username.casefold():
        raise PasswordPolicyError("a password is not the username")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=length
    )


def hash_password(password: str) -> str:
    """A new salted hash of `password` (the policy is not checked here)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, N, R, P, KEY_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(key)}"


def _decode(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    if not all(part.isascii() and part.isdigit() for part in parts[1:4]):
        return None
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if not (1 < n <= MAX_N and n & (n - 1) == 0 and 0 < r <= MAX_R and 0 < p <= MAX_P):
        return None
    if not salt or not 16 <= len(key) <= 64:
        return None
    return n, r, p, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the stored hash; False (never an error) if it is malformed."""
    decoded = _decode(encoded)
    if decoded is None:
        return False
    n, r, p, salt, key = decoded
    try:
        candidate = _scrypt(password, salt, n, r, p, len(key))
    except (ValueError, MemoryError):  # parameters OpenSSL refuses
        return False
    return hmac.compare_digest(candidate, key)


def needs_rehash(encoded: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    decoded = _decode(encoded)
    return decoded is None or decoded[:3] != (N, R, P) or len(decoded[4]) != KEY_BYTES
