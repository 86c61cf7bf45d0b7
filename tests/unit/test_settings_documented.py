"""Every setting is documented in the README's settings table, under its environment variable."""

from pathlib import Path

from server.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_has_a_row_in_the_readme() -> None:
    names = sorted(Settings.model_fields)
    assert len(names) > 40
    table = README[README.index("## Settings"):]
    missing = [n for n in names if f"`ILOKG_{n.upper()}`" not in table]
    assert missing == []
