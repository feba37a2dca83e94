"""STP's firma: RSA PKCS#1 v1.5 over SHA-256 of the cadena original, base64-encoded."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class Signer:
    """Signs cadenas with the private key of the configured PEM and passphrase."""

    def __init__(self, private_key: rsa.RSAPrivateKey):
        self._key = private_key

    @classmethod
    def from_pem(cls, pem: bytes, passphrase: str | None) -> Signer:
        key = serialization.load_pem_private_key(pem, passphrase.encode() if passphrase else None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("STP signs with an RSA key")
        return cls(key)

    @classmethod
    def from_file(cls, path: str | Path, passphrase: str | None) -> Signer:
        return cls.from_pem(Path(path).read_bytes(), passphrase)

    def sign(self, cadena: str) -> str:
        signature = self._key.sign(cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")


class Verifier:
    """Checks a firma against a public key or an X.509 certificate (what STP holds of us)."""

    def __init__(self, public_key: rsa.RSAPublicKey):
        self._key = public_key

    @classmethod
    def from_pem(cls, pem: bytes) -> Verifier:
        key: Any = (x509.load_pem_x509_certificate(pem).public_key() if b"CERTIFICATE" in pem
                    else serialization.load_pem_public_key(pem))
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("expected an RSA public key")
        return cls(key)

    def verify(self, cadena: str, firma: str) -> bool:
        try:
            self._key.verify(base64.b64decode(firma, validate=True), cadena.encode("utf-8"),
                             padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError):
            return False


def generate_key_pair(passphrase: str | None) -> tuple[bytes, bytes]:
    """A new RSA key pair as (encrypted private PEM, public PEM): for the sandbox, demos and tests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public
