"""Settings of every function, read once from the environment the template gives."""

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment variables prefixed HUBBOOKS_ (see README's configuration table)."""

    model_config = SettingsConfigDict(env_prefix="HUBBOOKS_", extra="ignore", frozen=True)

    stack_name: str = Field(description="Name of the deployed stack")
    table_name: str = Field(description="The single DynamoDB table")
    idempotency_table_name: str = Field(description="Powertools idempotency table")
    sync_queue_url: str = Field(description="URL of the sync FIFO queue")
    sync_dead_letter_queue_url: str = Field(default="", description="The sync queue's dead-letter queue (worker)")
    sweep_queue_url: str = Field(default="", description="Requests to sweep one connection (the sweep's tick)")
    failures_before_dead_letter: int = Field(
        default=5, description="Failures of a signal, throttles and outages not counted, before it is dead-lettered"
    )
    token_key_id: str = Field(description="KMS key that encrypts OAuth tokens")
    app_secret_arn: str = Field(default="", description="Secrets Manager secret with the app's credentials")
    signing_secret_arn: str = Field(
        default="", description="Secret with the signing key (sessions, OAuth states); given to two functions only"
    )
    public_base_url: str = Field(default="", description="Public base URL; empty: the URL a request came to")
    hubspot_api_base: str = "https://api.hubapi.com"
    hubspot_authorize_url: str = "https://app.hubspot.com/oauth/authorize"
    qbo_api_base: str = "https://quickbooks.api.intuit.com"
    qbo_authorize_url: str = "https://appcenter.intuit.com/connect/oauth2"
    qbo_token_url: str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL
    qbo_revoke_url: str = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    qbo_minor_version: int = 75
    hubspot_accept_legacy_signatures: bool = Field(
        default=False, description="Also accept HubSpot's v1/v2 webhook signatures (v3 is always accepted)"
    )
    http_timeout_seconds: float = 20.0
    rate_time_scale: float = Field(
        default=1.0, description="Divides the rate budget's windows; only devstack sets it, to match its sandbox"
    )


@lru_cache(maxsize=8)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The settings of the current environment, read once per distinct environment.

    In Lambda that is once per execution environment; devstack runs several functions and stacks in one
    process, each invocation seeing its own environment, so the cache is keyed by the HUBBOOKS_ values.
    """
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("HUBBOOKS_"))))
