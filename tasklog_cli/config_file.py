"""What a config file may say, validated with pydantic (imported only when there is a config file)."""

from pydantic import BaseModel, ConfigDict


class RepoConfig(BaseModel):
    """One `[repos.NAME]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    table: str | None = None
    time_zone: str | None = None


class ConfigFile(BaseModel):
    """A whole config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str | None = None
    repos: dict[str, RepoConfig] = {}
