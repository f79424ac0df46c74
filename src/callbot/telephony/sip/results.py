"""From SIP final responses to dial results (通话结果): the table a record's result comes from.

| SIP response | dial result |
|---|---|
| 2xx | ANSWERED |
| 486 Busy Here, 600 Busy Everywhere | BUSY |
| 480 Temporarily Unavailable, 408 Request Timeout, the ring timeout (CANCEL) | NO_ANSWER |
| 404 Not Found, 604 Does Not Exist Anywhere, 484 Address Incomplete, 410 Gone | VACANT_NUMBER |
| 603 Decline | REFUSED |
| 403 Forbidden, 401/407 again after authenticating | FROM_PHONE_ERROR |
| 487 Request Terminated (not after our CANCEL) | NO_ANSWER |
| 488/606 Not Acceptable, 415 | CAN_NOT_CONNECT |
| 5xx, any other 4xx/6xx, no answer to the INVITE at all | CAN_NOT_CONNECT |

The code and reason phrase stay on the record (`sip_reason`), so "480 Temporarily Unavailable" and the
ring timeout can be told apart. Carriers in China often answer 183 with an announcement (关机, 停机,
空号) and then a 480 or 404: telling those apart needs the announcement recognised (the speech layer);
until then they land on the SIP code's row.
"""

from __future__ import annotations

from callbot.telephony.gateway import DialStatus

__all__ = ["dial_status", "sip_reason"]

_BY_CODE = {
    486: DialStatus.BUSY,
    600: DialStatus.BUSY,
    480: DialStatus.NO_ANSWER,
    408: DialStatus.NO_ANSWER,
    487: DialStatus.NO_ANSWER,
    404: DialStatus.VACANT_NUMBER,
    604: DialStatus.VACANT_NUMBER,
    484: DialStatus.VACANT_NUMBER,
    410: DialStatus.VACANT_NUMBER,
    603: DialStatus.REFUSED,
    403: DialStatus.FROM_PHONE_ERROR,
    401: DialStatus.FROM_PHONE_ERROR,  # only reaches here when the credentials were refused
    407: DialStatus.FROM_PHONE_ERROR,
}


def dial_status(code: int) -> DialStatus:
    """The dial result of a final response `code` to an INVITE."""
    if 200 <= code < 300:
        return DialStatus.ANSWERED
    return _BY_CODE.get(code, DialStatus.CAN_NOT_CONNECT)


def sip_reason(code: int, reason: str) -> str:
    """How a response is kept on the record: "SIP 486 Busy Here"."""
    return f"SIP {code} {reason}".strip()
