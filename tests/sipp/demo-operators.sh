#!/usr/bin/env bash
# Demo operators for `make run`: one sipp UAS (tests/sipp/operator.xml) per static operator
# contact of asterisk_configs/pjsip.conf. Each answers every call and hangs up after HOLD_MS.
#
#   bash tests/sipp/demo-operators.sh start    # start those not running (idempotent)
#   bash tests/sipp/demo-operators.sh status   # exit 3 unless all of them run
#   bash tests/sipp/demo-operators.sh stop     # kill the processes this script recorded
#
# HOLD_MS (default 15000) is how long an operator holds an answered call. Pids, sipp output
# and error files are in var/demo-operators/ of the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCENARIO="$ROOT/tests/sipp/operator.xml"
STATE="$ROOT/var/demo-operators"
HOLD_MS=${HOLD_MS:-15000}
PORT=5060
OPERATORS=(
    op-rabat-1=127.0.0.21
    op-rabat-2=127.0.0.22
    op-rabat-3=127.0.0.23
    op-sale-1=127.0.0.24
    op-sale-2=127.0.0.25
)

# The recorded pid of NAME if that process is still our sipp on ADDRESS (not a reused pid).
running_pid() {
    local name=$1 address=$2 pid
    pid=$(cat "$STATE/$name.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "sipp .*-i $address -p $PORT " ||
        return 1
    echo "$pid"
}

start() {
    command -v sipp >/dev/null || { echo "sipp is not installed (apt-get install sip-tester)" >&2; exit 1; }
    [[ $HOLD_MS =~ ^[0-9]+$ ]] || { echo "HOLD_MS must be a number of ms, not '$HOLD_MS'" >&2; exit 2; }
    mkdir -p "$STATE"
    local entry name address pid failed=0 started=()
    for entry in "${OPERATORS[@]}"; do
        name=${entry%%=*} address=${entry#*=}
        if pid=$(running_pid "$name" "$address"); then
            echo "$name: already running (pid $pid, $address:$PORT)"
            continue
        fi
        rm -f "$STATE/$name.pid" "$STATE/$name.err"
        # setsid: the operators outlive the terminal and a Ctrl-C of `make run`.
        setsid sipp -sf "$SCENARIO" -i "$address" -p "$PORT" -d "$HOLD_MS" -aa -nostdin \
            -trace_err -error_file "$STATE/$name.err" </dev/null >"$STATE/$name.log" 2>&1 &
        echo "$!" >"$STATE/$name.pid"
        started+=("$entry")
    done
    if ((${#started[@]})); then
        sleep 0.5 # long enough for a sipp that cannot bind its address to give up
    fi
    for entry in "${started[@]}"; do
        name=${entry%%=*} address=${entry#*=}
        if pid=$(running_pid "$name" "$address"); then
            echo "$name: started (pid $pid, $address:$PORT, hold ${HOLD_MS} ms)"
        else
            echo "$name: sipp on $address:$PORT exited at once:" >&2
            if [[ -s $STATE/$name.err ]]; then
                tail -n 3 "$STATE/$name.err" >&2
                echo >&2 # the error file has no final newline
            else
                tail -n 5 "$STATE/$name.log" >&2 || true
            fi
            rm -f "$STATE/$name.pid"
            failed=1
        fi
    done
    if ((failed)); then
        exit 1
    fi
    # The queues have no static members: each demo operator joins its room (ready), as an
    # operator logging in to the console and saying ready would.
    local line19="$ROOT/.venv/bin/line19" room
    for entry in "${OPERATORS[@]}"; do
        name=${entry%%=*}
        room=${name#op-}
        room=${room%-*}
        "$line19" asterisk rx "queue add member PJSIP/$name to $room penalty 0 as $name state_interface PJSIP/$name" >/dev/null ||
            { echo "$name: could not join the $room queue (is the sandbox up?)" >&2; exit 1; }
    done
    echo "Asterisk rings an operator once it answers a qualify (within 5 s):" \
        "line19 asterisk rx 'pjsip show contacts'"
}

stop() {
    local entry name address pid
    for entry in "${OPERATORS[@]}"; do
        name=${entry%%=*} address=${entry#*=}
        if pid=$(running_pid "$name" "$address"); then
            kill "$pid"
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid"
            fi
            echo "$name: stopped (pid $pid)"
        else
            echo "$name: not running"
        fi
        rm -f "$STATE/$name.pid"
    done
}

status() {
    local entry name address pid down=0
    for entry in "${OPERATORS[@]}"; do
        name=${entry%%=*} address=${entry#*=}
        if pid=$(running_pid "$name" "$address"); then
            echo "$name: running (pid $pid, $address:$PORT)"
        else
            echo "$name: not running"
            down=1
        fi
    done
    if ((down)); then
        exit 3
    fi
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 start|stop|status   (HOLD_MS=$HOLD_MS)" >&2
        exit 2
        ;;
esac
