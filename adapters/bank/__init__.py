"""The bank: STP's signer and HTTP client."""
