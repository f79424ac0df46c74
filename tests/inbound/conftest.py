"""Inbound calls are tested against SIPp callers: the SIPp helper lives with the SIP tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telephony" / "sip"))
