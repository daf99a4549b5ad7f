"""Password hashing (scrypt) and the password policy."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gateway.auth.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "tour-hassan-1195"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_password_verifies_against_its_hash_and_another_does_not() -> None:
    encoded = hash_password(GOOD)
    assert verify_password(GOOD, encoded)
    assert not verify_password(GOOD + "!", encoded)
    assert not verify_password("", encoded)


def test_a_non_ascii_password_round_trips() -> None:
    password = "كلمة-سر-طويلة-٢٠٢٦"
    assert verify_password(password, hash_password(password))


def test_the_hash_is_salted_and_carries_its_parameters() -> None:
    first, second = hash_password(GOOD), hash_password(GOOD)
    assert first != second
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32
    assert not needs_rehash(first)


def test_a_hash_made_with_other_parameters_still_verifies_and_asks_for_a_rehash() -> None:
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(GOOD.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    encoded = f"scrypt$1024$8$1${_b64(salt)}${_b64(key)}"
    assert verify_password(GOOD, encoded)
    assert needs_rehash(encoded)


def test_a_tampered_key_does_not_verify() -> None:
    scheme, n, r, p, salt, key = hash_password(GOOD).split("$")
    flipped = bytes([base64.b64decode(key)[0] ^ 1]) + base64.b64decode(key)[1:]
    assert not verify_password(GOOD, "$".join((scheme, n, r, p, salt, _b64(flipped))))


_SALT = _b64(b"s" * 16)
_KEY = _b64(b"k" * 32)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "scrypt",
        GOOD,
        f"bcrypt$16384$8$1${_SALT}${_KEY}",
        f"scrypt$16384$8$1${_SALT}",  # a field missing
        f"scrypt$16384$8$1${_SALT}${_KEY}$extra",
        f"scrypt$abc$8$1${_SALT}${_KEY}",
        f"scrypt$-16384$8$1${_SALT}${_KEY}",
        f"scrypt$ 16384$8$1${_SALT}${_KEY}",
        f"scrypt$١٦٣٨٤$8$1${_SALT}${_KEY}",  # Arabic-Indic digits
        f"scrypt$16383$8$1${_SALT}${_KEY}",  # n not a power of two
        f"scrypt$1$8$1${_SALT}${_KEY}",
        f"scrypt${2**30}$8$1${_SALT}${_KEY}",  # would need 128 GiB
        f"scrypt$16384$0$1${_SALT}${_KEY}",
        f"scrypt$16384$8$0${_SALT}${_KEY}",
        f"scrypt$16384$8$1$$${_KEY}",  # no salt
        f"scrypt$16384$8$1${_SALT}$",  # no key
        f"scrypt$16384$8$1${_SALT}${_b64(b'k' * 4)}",  # a key too short to mean anything
        f"scrypt$16384$8$1$not base64!${_KEY}",
        f"scrypt$16384$8$1${_SALT}${_KEY[:-2]}",  # bad padding
    ],
)
def test_a_malformed_encoding_is_false_not_an_error(encoded: str) -> None:
    assert verify_password(GOOD, encoded) is False
    assert needs_rehash(encoded)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw1", "at least 10 characters"),
        ("", "at least 10 characters"),
        ("0612345678", "digits only"),
        ("          ", "spaces only"),
        ("x" * 1025, "at most 1024"),
        ("Amina.Bennani", "not the username"),
    ],
)
def test_the_policy_refuses_a_weak_password_with_its_reason(password: str, reason: str) -> None:
    with pytest.raises(PasswordPolicyError, match=reason):
        check_policy(password, username="amina.bennani")


@pytest.mark.parametrize("password", ["0612345678a", "ten chars!", "نجمة الصباح", GOOD])
def test_the_policy_accepts_ten_characters_that_are_not_all_digits(password: str) -> None:
    assert check_policy(password, username="amina.bennani") is None
