"""The app's credentials and the signing key, kept in two Secrets Manager secrets (only the functions that sign
sessions and OAuth states may read the key) and read through Powertools Parameters (cached)."""

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel, SecretStr

from hubbooks.config import Settings

CACHE_SECONDS = 300


class AppSecrets(BaseModel):
    hubspot_client_id: str = ""
    hubspot_client_secret: SecretStr = SecretStr("")
    qbo_client_id: str = ""
    qbo_client_secret: SecretStr = SecretStr("")
    qbo_verifier_token: SecretStr = SecretStr("")
    hubspot_app_id: str = ""  # app-level calls (timeline templates, the workflow action): optional
    hubspot_developer_api_key: SecretStr = SecretStr("")

    def missing(self) -> list[str]:
        """Credentials an operator has not filled in yet."""
        values = {
            "hubspot_client_id": self.hubspot_client_id,
            "hubspot_client_secret": self.hubspot_client_secret.get_secret_value(),
            "qbo_client_id": self.qbo_client_id,
            "qbo_client_secret": self.qbo_client_secret.get_secret_value(),
        }
        return [name for name, value in values.items() if not value]


def load_secrets(settings: Settings) -> AppSecrets:
    raw = parameters.get_secret(settings.app_secret_arn, transform="json", max_age=CACHE_SECONDS)
    return AppSecrets.model_validate(raw)


def load_signing_key(settings: Settings) -> SecretStr:
    if not settings.signing_secret_arn:
        raise RuntimeError("this function is not given the signing key")
    raw = parameters.get_secret(settings.signing_secret_arn, transform="json", max_age=CACHE_SECONDS)
    return SecretStr(str(raw["signing_key"]))
