#!/usr/bin/python3
"""Checks the MOK enrolment request that Debian's mokutil queued in the firmware's variables
from the files `kmod-sysext enroll` wrote, against those files and the one-time password.

  mok_request.py LOG DER HASH PASSWORD

LOG holds the guest's lines "KSX-MOK MokNew <base64>" and "KSX-MOK MokAuth <base64>" (the
efivarfs files: 4 bytes of attributes, then the variable). Checked:
  - MokNew is one EFI_SIGNATURE_LIST of type EFI_CERT_X509_GUID whose one entry is DER;
  - MokAuth is mokutil's pw_crypt_t for a SHA-512 crypt hash: method 4, 5000 rounds, the salt
    of HASH, and as hash the raw SHA-512 crypt digest of PASSWORD with that salt, computed
    here from the algorithm (what MokManager recomputes when the password is typed), the
    digest's text form equal to HASH.
Exits 1 with the reason on the first mismatch.
"""

import base64
import hashlib
import struct
import sys
import uuid

# EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS, as mokutil writes them.
ATTRIBUTES = 7
EFI_CERT_X509_GUID = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
SHA512_BASED = 4  # mokutil's HashMethod
PW_CRYPT = struct.Struct("<HQH32s128s")  # mokutil's packed pw_crypt_t, 172 bytes
CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def fail(message):
    print(f"mok_request: {message}", file=sys.stderr)
    sys.exit(1)


def sha512_crypt_digest(password, salt, rounds=5000):
    """The raw 64-byte digest of SHA-512 crypt ("$6$"), Ulrich Drepper's specification."""
    h = hashlib.sha512
    b = h(password + salt + password).digest()
    a = h(password + salt)
    n = len(password)
    while n > 64:
        a.update(b)
        n -= 64
    a.update(b[:n])
    n = len(password)
    while n:
        a.update(b if n & 1 else password)
        n >>= 1
    a = a.digest()
    p = (h(password * len(password)).digest() * (len(password) // 64 + 1))[: len(password)]
    s = (h(salt * (16 + a[0])).digest() * (len(salt) // 64 + 1))[: len(salt)]
    c = a
    for i in range(rounds):
        step = h(p if i & 1 else c)
        if i % 3:
            step.update(s)
        if i % 7:
            step.update(p)
        step.update(c if i & 1 else p)
        c = step.digest()
    return c


def sha512_crypt_text(digest):
    """The digest as crypt writes it: 21 byte triples in crypt's order, then the last byte."""

    def chars(value, count):
        return "".join(CRYPT_ALPHABET[(value >> (6 * i)) & 63] for i in range(count))

    out = ""
    for i in range(21):
        triple = [i, i + 21, i + 42]
        rotation = i % 3
        b2, b1, b0 = triple[rotation:] + triple[:rotation]
        out += chars(digest[b2] << 16 | digest[b1] << 8 | digest[b0], 4)
    return out + chars(digest[63], 2)


def variable(log, name):
    prefix = f"KSX-MOK {name} "
    for line in log:
        if line.startswith(prefix):
            data = base64.b64decode(line[len(prefix):].strip())
            attributes = struct.unpack_from("<I", data)[0]
            if attributes != ATTRIBUTES:
                fail(f"{name} has attributes {attributes:#x}, not {ATTRIBUTES:#x}")
            return data[4:]
    fail(f"the guest printed no {name} variable")


def check_mok_new(data, der):
    # EFI_SIGNATURE_LIST: type GUID, list size, header size, signature size; then each
    # signature: owner GUID and the certificate.
    if len(data) < 28:
        fail(f"MokNew is {len(data)} bytes, too short for an EFI_SIGNATURE_LIST")
    kind = uuid.UUID(bytes_le=data[:16])
    list_size, header_size, signature_size = struct.unpack_from("<III", data, 16)
    if kind != EFI_CERT_X509_GUID:
        fail(f"MokNew's signature list is of type {kind}, not X.509")
    if list_size != len(data) or header_size != 0 or signature_size != 16 + len(der):
        fail(f"MokNew: list size {list_size} of {len(data)} bytes, header {header_size}, "
             f"signature size {signature_size} (want {16 + len(der)}): not one certificate")
    if data[28 + 16:] != der:
        fail("MokNew's certificate is not the DER file's")
    return uuid.UUID(bytes_le=data[28:44])


def check_mok_auth(data, hash_text, password):
    if len(data) != PW_CRYPT.size:
        fail(f"MokAuth is {len(data)} bytes, not a pw_crypt_t ({PW_CRYPT.size})")
    method, rounds, salt_size, salt, digest = PW_CRYPT.unpack(data)
    parts = hash_text.split("$")
    if len(parts) != 4 or parts[:2] != ["", "6"]:
        fail(f"the hash file is not \"$6$salt$hash\": {hash_text!r}")
    want_salt = parts[2].encode()
    if method != SHA512_BASED or rounds != 5000:
        fail(f"MokAuth: method {method}, {rounds} rounds (want {SHA512_BASED}, 5000)")
    if salt_size != len(want_salt) or salt[:salt_size] != want_salt or any(salt[salt_size:]):
        fail(f"MokAuth's salt {salt[:salt_size]!r} is not the hash file's {want_salt!r}")
    expected = sha512_crypt_digest(password.encode(), want_salt)
    if sha512_crypt_text(expected) != parts[3]:
        fail("the hash file is not the SHA-512 crypt hash of the password")
    if digest[:64] != expected or any(digest[64:]):
        fail("MokAuth's digest is not the password's SHA-512 crypt digest")


def main():
    if len(sys.argv) != 5:
        fail("usage: mok_request.py LOG DER HASH PASSWORD")
    with open(sys.argv[1], errors="replace") as log_file:
        log = log_file.readlines()
    with open(sys.argv[2], "rb") as der_file:
        der = der_file.read()
    with open(sys.argv[3]) as hash_file:
        hash_text = hash_file.read().strip()
    with open(sys.argv[4]) as password_file:
        password = password_file.read().rstrip("\n")
    owner = check_mok_new(variable(log, "MokNew"), der)
    check_mok_auth(variable(log, "MokAuth"), hash_text, password)
    print(f"MokNew: the certificate ({len(der)} bytes, owner {owner}); MokAuth: SHA-512 crypt, "
          f"5000 rounds, the hash file's salt and the password's digest")


main()
