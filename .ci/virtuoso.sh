#!/bin/sh
# Virtuoso 7 (Debian package virtuoso-opensource) for the load tests, bound to 127.0.0.1 only.
#   .ci/virtuoso.sh install                 install the package if virtuoso-t is missing
#   .ci/virtuoso.sh start DIR HTTP SQL      new database in DIR, listening on 127.0.0.1:HTTP/:SQL;
#                                            waits until /sparql answers; user dba, password dba
#   .ci/virtuoso.sh stop DIR                stop the server started in DIR
set -eu

install() {
    command -v virtuoso-t >/dev/null 2>&1 && return 0
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null
}

start() {
    dir=$1 http=$2 sql=$3
    mkdir -p "$dir"
    cat >"$dir/virtuoso.ini" <<INI
[Database]
DatabaseFile    = $dir/virtuoso.db
ErrorLogFile    = $dir/virtuoso.log
LockFile        = $dir/virtuoso.lck
TransactionFile = $dir/virtuoso.trx
xa_persistent_file = $dir/virtuoso.pxa
MaxCheckpointRemap = 2000
[TempDatabase]
DatabaseFile    = $dir/virtuoso-temp.db
TransactionFile = $dir/virtuoso-temp.trx
[Parameters]
ServerPort         = 127.0.0.1:$sql
DisableUnixSocket  = 1
NumberOfBuffers    = 20000
MaxDirtyBuffers    = 15000
DirsAllowed        = ., $dir, /usr/share/virtuoso-opensource-7/vad
VADInstallDir      = /usr/share/virtuoso-opensource-7/vad/
[HTTPServer]
ServerPort         = 127.0.0.1:$http
ServerRoot         = /var/lib/virtuoso-opensource-7/vsp
ServerThreads      = 10
Charset            = UTF-8
[SPARQL]
ResultSetMaxRows   = 1000000
MaxQueryExecutionTime = 120
DefaultGraph       = http://localhost:$http/dataspace
INI
    (cd "$dir" && nohup virtuoso-t +foreground +configfile "$dir/virtuoso.ini" >"$dir/stdout.log" 2>&1 &
     echo $! >"$dir/virtuoso.pid")
    i=0
    until curl -fs -o /dev/null "http://127.0.0.1:$http/sparql?query=ASK%7B%7D" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 600 ]; then echo "virtuoso did not start; see $dir/virtuoso.log" >&2; exit 1; fi
        sleep 0.1
    done
}

stop() {
    dir=$1
    [ -f "$dir/virtuoso.pid" ] || return 0
    pid=$(cat "$dir/virtuoso.pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/virtuoso.pid"
}

cmd=${1:-install}
shift || true
"$cmd" "$@"
