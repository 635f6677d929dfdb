"""Time-based one-time passwords (RFC 6238) as common authenticator apps read them: SHA-1, six
digits, 30-second steps, a base32 secret handed over as an otpauth:// URI, shown as a QR code
drawn here (an SVG, nothing fetched from elsewhere).

Only maths and drawing: who holds which secret, and what a login makes of a code, are
`service.totp` and `service.auth`.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyotp
import segno

ISSUER = "rectiflow"  # the name an authenticator app lists the account under
STEP_SECONDS = 30
WINDOW = 1  # steps either side of the current one that are still accepted (a clock off by 30 s)
DIGITS = 6
# Compared against when an account has no factor, so that every login does the same work.
DUMMY_SECRET = pyotp.random_base32()
_SEPARATORS = re.compile(r"[\s-]")


class Outcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"     # no step in the window gives this code
    REPLAYED = "replayed"   # it is the code of a step used already


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    step: int | None = None  # the time step the code belongs to (when it is one of the window's)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def new_secret() -> str:
    """160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """otpauth://totp/issuer:account?secret=…&issuer=…: what an authenticator app scans."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def normalise(code: str | None) -> str:
    """A code as typed, without the spaces or dash some apps show in the middle."""
    return _SEPARATORS.sub("", code or "")


def check(secret: str, code: str | None, now: datetime, last_step: int | None) -> Check:
    """Whether `code` is the code of the current step or one either side of it, and if so whether
    that step is later than the last one accepted (a code is good once)."""
    code = normalise(code)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(now)
    matched = [step for step in range(current - WINDOW, current + WINDOW + 1)
               if hmac.compare_digest(totp.generate_otp(step), code)] if _well_formed(code) else []
    if not matched:
        return Check(Outcome.INVALID)
    fresh = [step for step in matched if last_step is None or step > last_step]
    if not fresh:
        return Check(Outcome.REPLAYED, matched[-1])
    return Check(Outcome.OK, fresh[-1])


def _well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def qr_svg(uri: str, label: str) -> str:
    """The URI as a QR code: an inline SVG that scales with its box (a viewBox, no fixed size),
    dark on white whatever the page's colours, named for screen readers by `label`."""
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr-code",
                        lineclass=None, title=label)
    return svg.replace("<svg ", '<svg role="img" ', 1)
