"""Media (媒体): audio frames, G.711, RTP packets, RFC 4733 DTMF, the pacing clock and RTP streams.

Engine-layer code: no store, no settings, no domain imports. The SIP gateway and, later, the speech
layer build on it.
"""
