"""Who may submit, and how often: bearer tokens checked against the tokens file, rates per token and per client."""

import logging
import math
import re
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from server.settings import Settings
from server.submissions.service import SubmissionError
from server.submissions.tokens import Principal, TokenRegistry, TokensFileError

# RFC 6750's token68, bounded: anything else in the header is not a token we issued.
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9\-._~+/]{1,256}=*)$", re.IGNORECASE)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ilo-partnerships-kg"'}
log = logging.getLogger("ilokg.tokens")


class Guard:
    """Checks tokens and spends rate allowances."""

    def __init__(self, settings: Settings):
        self._enabled = settings.submissions_enabled
        self.tokens = TokenRegistry(settings.tokens_file)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._submission_rate = parse(settings.submission_rate)
        self._validation_rate = parse(settings.validation_rate)

    def principal(self, authorization: str | None) -> Principal:
        """The submitter a request's Authorization header names; 401 if it names none (403 if submissions are off)."""
        if not self._enabled:
            raise SubmissionError(403, "This server does not accept submissions (it is a read-only copy of the graph).")
        if not authorization:
            raise SubmissionError(
                401, "Submitting needs a token: send the header 'Authorization: Bearer <token>'. "
                "Tokens are issued by the operator of this server.", _CHALLENGE,
            )
        match = _BEARER.match(authorization.strip())
        if match is None:
            raise SubmissionError(401, "The Authorization header must be 'Bearer <token>'.", _CHALLENGE)
        principal = self._verify(match.group(1))
        if principal is None:
            raise SubmissionError(
                401, "The token is not valid (mistyped, or revoked); ask the operator for a new one.", _CHALLENGE
            )
        return principal

    def holder(self, authorization: str | None) -> Principal | None:
        """The token holder an Authorization header names, or None (no header, not Bearer, or no valid token)."""
        match = _BEARER.match(authorization.strip()) if authorization else None
        try:
            return self.tokens.verify(match.group(1)) if match else None
        except TokensFileError:
            return None  # counted by its address; a route that needs the token refuses it (principal: 503)

    def _verify(self, token: str) -> Principal | None:
        try:
            return self.tokens.verify(token)
        except TokensFileError as error:
            # The operator's file, changed under a running server: no token can be checked until it is put right.
            log.error("tokens_file_unreadable", extra={"reason": str(error)})
            raise SubmissionError(
                503, "Tokens cannot be checked now: this server's tokens file cannot be read. The operator has been told "
                "(in the log); try again later.", {"Retry-After": "60"},
            ) from None

    def spend_submission(self, principal: Principal) -> None:
        """Count one write by a token; 429 once it has used up its rate."""
        self._spend(self._submission_rate, "submission", principal.name)

    def spend_validation(self, client: str) -> None:
        """Count one validation by a client address; 429 once it has used up its rate."""
        self._spend(self._validation_rate, "validation", client)

    def _spend(self, rate, kind: str, key: str) -> None:  # type: ignore[no-untyped-def]
        if self._limiter.hit(rate, kind, key):
            return
        reset, _ = self._limiter.get_window_stats(rate, kind, key)
        wait = max(1, math.ceil(reset - time.time()))
        raise SubmissionError(
            429, f"Too many {kind}s: {rate} are allowed; try again in {wait} s.", {"Retry-After": str(wait)},
        )
