"""Settings of every function, read once from the environment the template gives."""

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
    token_key_id: str = Field(description="KMS key that encrypts OAuth tokens")
    hubspot_api_base: str = Field(default="https://api.hubapi.com")
    qbo_api_base: str = Field(default="https://quickbooks.api.intuit.com")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read on first use, so imports stay cheap)."""
    return Settings()
