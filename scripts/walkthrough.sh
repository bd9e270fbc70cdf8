#!/usr/bin/env bash
# Re-plays README's "An incident, one screen" on this machine and prints what each command
# printed (used to paste the README section from a real run). Needs `npm install` first.
# Everything lives under a fresh temporary PINK_HOME; the engine and simulator are stopped at the end.
set -u
cd "$(dirname "$0")/.."
home=$(mktemp -d /tmp/pink-walk-XXXX)
export PINK_HOME=$home DOLPHIN_LOG_DIR=$home/logs NO_COLOR=1
signals=$home/intents.ndjson
: > "$signals"
pink() { echo "\$ pink $*"; node bin/pink.js "$@" 2>&1; echo "[exit $?]"; echo; }

pink run --detach --strategy signals --signals "$signals"
echo '{"intent_id":"walk-1","symbol":"BTC-USDT","action":"ENTER","side":"long","qty":0.01,"reason":"model"}' >> "$signals"
sleep 4
pink ditav2-status
sim=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$home/sim/sim.json','utf8')).url)")
echo "# kill -9 the engine; open a short 0.2 ETH-USDT at the venue behind PINK's back"
kill -9 "$(cat "$home/pink.pid")"; sleep 0.5
curl -s -X POST "$sim/__sim/position" -H 'content-type: application/json' -d '{"symbol":"ETH-USDT","qty":-0.2,"entryPrice":3000}' > /dev/null
echo
pink ditav2-status
pink restart
pink flatten ETH-USDT --yes
pink flatten ETH-USDT --yes
pink mode-verify
pink replay
kill "$(cat "$home/pink.pid")" 2>/dev/null; sleep 2
kill "$(node -e "console.log(JSON.parse(require('fs').readFileSync('$home/sim/sim.json','utf8')).pid)")" 2>/dev/null
rm -rf "$home"
