#!/usr/bin/env bash
# One call to 19 through the Asterisk sandbox, with sipp (tests/sipp/caller.xml):
#
#   bash tests/sipp/call.sh SOURCE_IP CALLER [TALK_MS]
#
# SOURCE_IP picks the carrier trunk (127.0.0.2 Maroc Telecom, 127.0.0.3 Orange, 127.0.0.4
# inwi; any other address is turned away with 401). CALLER is the caller's number, or
# "anonymous" for a withheld one; CALLER_NAME sets the display name. TALK_MS (default 40000: the IVR, the queue, then the operator, who hangs up first)
# counts from the answer, intake and queue wait included. Asterisk is reached at
# 127.0.0.1:${LINE19_SIP_PORT:-5060}. Prints one line with the outcome and exits with
# sipp's status (0: answered and ended normally); sipp's output is in var/calls/.
set -euo pipefail

usage() {
    echo "usage: $0 SOURCE_IP CALLER [TALK_MS]   e.g. $0 127.0.0.2 0612345678" >&2
    exit 2
}
(($# >= 2 && $# <= 3)) || usage
SOURCE_IP=$1 CALLER=$2 TALK_MS=${3:-40000}
[[ $SOURCE_IP =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "SOURCE_IP must be a 127.x.y.z address" >&2; usage; }
[[ $TALK_MS =~ ^[0-9]+$ ]] || { echo "TALK_MS must be a number of ms" >&2; usage; }
user_part='^[^][:space:][:cntrl:]<>@":]+$'
[[ $CALLER =~ $user_part ]] || { echo "CALLER must be a SIP user part, e.g. 0612345678" >&2; usage; }
command -v sipp >/dev/null || { echo "sipp is not installed (apt-get install sip-tester)" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIP_PORT=${LINE19_SIP_PORT:-5060}
case $SOURCE_IP in
    127.0.0.2) CARRIER="Maroc Telecom" ;;
    127.0.0.3) CARRIER="Orange" ;;
    127.0.0.4) CARRIER="inwi" ;;
    *) CARRIER="no carrier" ;;
esac
if [[ $CALLER == anonymous ]]; then
    NAME=${CALLER_NAME:-Anonymous}
else
    NAME=${CALLER_NAME:-Line 19 demo}
fi
[[ $NAME != *'"'* ]] || { echo "CALLER_NAME cannot hold a double quote" >&2; exit 2; }

# A free UDP port on SOURCE_IP (the operators hold 5060 on their own addresses).
LOCAL_PORT=$(python3 -c '
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind((sys.argv[1], 0))
    print(s.getsockname()[1])
' "$SOURCE_IP")

LOGS="$ROOT/var/calls"
mkdir -p "$LOGS"
LOG="$LOGS/call-$(date +%Y%m%d-%H%M%S)-$$.log"
echo "calling 19 from $CALLER via $CARRIER ($SOURCE_IP:$LOCAL_PORT -> 127.0.0.1:$SIP_PORT)," \
    "talk ${TALK_MS} ms ..."

status=0
sipp -sf "$ROOT/tests/sipp/caller.xml" -i "$SOURCE_IP" -p "$LOCAL_PORT" -s 19 -m 1 \
    -d "$TALK_MS" -key cid_num "$CALLER" -key cid_name "$NAME" -nostdin \
    -trace_err -error_file "$LOG.err" "127.0.0.1:$SIP_PORT" </dev/null >"$LOG" 2>&1 || status=$?
if [[ -s $LOG.err ]]; then
    { echo; echo "--- sipp errors ---"; cat "$LOG.err"; echo; } >>"$LOG"
fi
rm -f "$LOG.err"

if ((status == 0)); then
    echo "call from $CALLER via $CARRIER: answered and ended normally"
elif grep -q "retransmission timeout" "$LOG"; then
    echo "call from $CALLER via $CARRIER: failed: see $LOG (sipp exit $status;" \
        "no answer from 127.0.0.1:$SIP_PORT: is the sandbox up? line19 asterisk status)"
else
    echo "call from $CALLER via $CARRIER: failed: see $LOG (sipp exit $status)"
fi
exit "$status"
