"""Token encryption with the stack's KMS key, bound to the connection and provider it belongs to."""

import base64
import json
from typing import Any

from pydantic import BaseModel, SecretStr


class TokenPair(BaseModel):
    access_token: SecretStr
    refresh_token: SecretStr


class TokenCipher:
    """KMS Encrypt/Decrypt with an encryption context, so a ciphertext only decrypts for its owner."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    @staticmethod
    def _context(connection_id: str, provider: str) -> dict[str, str]:
        return {"connection": connection_id, "provider": provider}

    def encrypt(self, connection_id: str, provider: str, tokens: TokenPair) -> str:
        plaintext = json.dumps(
            {
                "access_token": tokens.access_token.get_secret_value(),
                "refresh_token": tokens.refresh_token.get_secret_value(),
            }
        ).encode()
        blob = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=self._context(connection_id, provider)
        )["CiphertextBlob"]
        return base64.b64encode(blob).decode("ascii")

    def decrypt(self, connection_id: str, provider: str, ciphertext: str) -> TokenPair:
        plaintext = self._kms.decrypt(
            CiphertextBlob=base64.b64decode(ciphertext),
            EncryptionContext=self._context(connection_id, provider),
        )["Plaintext"]
        return TokenPair.model_validate(json.loads(plaintext))
