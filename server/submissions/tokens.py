"""Bearer tokens for submissions: issued by the operator, stored hashed, each naming its submitter.

A token is 32 random bytes (base64url) behind the prefix `ilokg_`. Only its SHA-256 is
kept: a fast hash suffices because the token is random and long, not a password a person
chose, so it cannot be guessed from its hash. The file is read again whenever it changes, so
a token added or revoked with the CLI takes effect without restarting the server.
"""

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from server.files import write_atomic

TOKEN_PREFIX = "ilokg_"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class Role(StrEnum):
    """What a token may do: submitters manage their own submissions; operators may also withdraw any."""

    SUBMITTER = "submitter"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    """Who a valid token names."""

    name: str
    role: Role


@dataclass(frozen=True)
class TokenEntry:
    """One issued token, as the tokens file keeps it."""

    name: str
    role: str
    sha256: str
    created: str


class TokenError(Exception):
    """A token command that cannot be carried out (bad name, name taken, no such token)."""


class TokensFileError(TokenError):
    """The tokens file exists but is not one `ilo-kg token` wrote (not JSON, another shape, unreadable)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenRegistry:
    """The tokens file: verify presented tokens, issue and revoke them."""

    def __init__(self, path: Path):
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._entries: list[TokenEntry] = []

    def entries(self) -> list[TokenEntry]:
        """The issued tokens (names, roles and hashes; never the tokens themselves)."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            self._stamp, self._entries = None, []
            return []
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._entries = self._read()
            self._stamp = stamp
        return list(self._entries)

    def _read(self) -> list[TokenEntry]:
        try:
            document = json.loads(self._path.read_text(encoding="utf-8"))
            entries = [TokenEntry(**entry) for entry in document.get("tokens", [])]
            if not all(isinstance(value, str) for entry in entries for value in asdict(entry).values()):
                raise TypeError("a value that is not a string")
            for entry in entries:
                Role(entry.role)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
        except (TypeError, ValueError, AttributeError) as error:
            reason = f"not the shape `ilo-kg token` writes: {error}"
        else:
            return entries
        raise TokensFileError(
            f"the tokens file {self._path} cannot be read ({reason[:200]}); it is written by `ilo-kg token add`: "
            "restore it, or name another with ILOKG_TOKENS_FILE. Nothing was changed"
        )

    def verify(self, token: str) -> Principal | None:
        """The principal a token names, or None if it names none."""
        digest = _digest(token)
        found = None
        # Every entry is compared, in constant time, so timing tells nothing about the hashes.
        for entry in self.entries():
            if hmac.compare_digest(entry.sha256, digest):
                found = Principal(entry.name, Role(entry.role))
        return found

    def issue(self, name: str, role: Role) -> str:
        """Create a token for a new name and return it; only its hash is written."""
        if not NAME_PATTERN.fullmatch(name):
            raise TokenError(
                f"{name!r} is not a usable name: use lower-case letters, digits and hyphens (up to 63), "
                "starting with a letter or digit"
            )
        entries = self.entries()
        if any(e.name == name for e in entries):
            raise TokenError(f"a token named {name!r} exists already; revoke it first to issue a new one")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self._save([*entries, TokenEntry(name, role.value, _digest(token), created)])
        return token

    def revoke(self, name: str) -> None:
        """Remove the token of a name."""
        entries = self.entries()
        if not any(e.name == name for e in entries):
            raise TokenError(f"no token is named {name!r}")
        self._save([e for e in entries if e.name != name])

    def _save(self, entries: list[TokenEntry]) -> None:
        document = {"tokens": [asdict(e) for e in entries]}
        write_atomic(self._path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
        self._path.chmod(0o600)
        self._stamp = None
