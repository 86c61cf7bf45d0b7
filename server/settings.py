"""Configuration: one settings object, read from environment variables prefixed ILOKG_."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository root: server/ sits directly below it.
_PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of the project; each can be overridden by ILOKG_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ILOKG_", frozen=True)

    ontology_dir: Path = Field(_PROJECT_DIR / "ontology", description="Folder of the OWL vocabulary (Turtle).")
    shapes_dir: Path = Field(_PROJECT_DIR / "shapes", description="Folder of the SHACL shapes (Turtle).")
    data_dir: Path = Field(_PROJECT_DIR / "data", description="Folder of the bundled, sourced data (Turtle).")
    max_input_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Largest RDF file the validator reads, in bytes."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
