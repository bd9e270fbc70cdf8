#!/usr/bin/env bash
# Re-plays README's "After an incident" on this machine and prints what each command printed (used
# to paste that section from a real run). Needs `npm install` first. A fresh temporary PINK_HOME,
# the engine's own simulator, the embedded store; the engine and the simulator are stopped at the end.
# The story: BTC long whose first exit the venue refuses, then closed; ETH short that goes against
# it and is flattened by hand; a rate-limit cycle; the engine stopped. Then: what happened on
# ETH-USDT in that window, and what it all cost.
set -u
cd "$(dirname "$0")/.."
home=$(mktemp -d /tmp/pink-incident-XXXX)
export PINK_HOME=$home DOLPHIN_LOG_DIR=$home/logs NO_COLOR=1 DOLPHIN_PINK_POLL_INTERVAL_SEC=0.2
signals=$home/intents.ndjson
: > "$signals"
pink() { echo "\$ pink $*"; node bin/pink.js "$@" 2>&1; echo "[exit $?]"; echo; }
quiet() { node bin/pink.js "$@" > /dev/null 2>&1; }
intent() { echo "$1" >> "$signals"; sleep "${2:-2}"; }
admin() { curl -s -X POST "$sim/__sim/$1" -H 'content-type: application/json' -d "$2" > /dev/null; }

start=$(date -u +%H:%M)
quiet run --detach --strategy signals --signals "$signals"
sim=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$home/sim/sim.json','utf8')).url)")
admin faults '{"priceWalk":false}'
admin price '{"symbol":"BTC-USDT","price":60000}'
admin price '{"symbol":"ETH-USDT","price":3000}'
intent '{"intent_id":"m-1","symbol":"BTC-USDT","action":"ENTER","side":"long","qty":0.01,"order_type":"market","reason":"model"}'
admin price '{"symbol":"BTC-USDT","price":60600}'
admin faults '{"rejectNext":"reduce-only order rejected"}'
intent '{"intent_id":"m-2","symbol":"BTC-USDT","action":"EXIT","final":true,"order_type":"market","reason":"take_profit"}'
intent '{"intent_id":"m-3","symbol":"BTC-USDT","action":"EXIT","final":true,"order_type":"market","reason":"take_profit"}'
intent '{"intent_id":"m-4","symbol":"ETH-USDT","action":"ENTER","side":"short","qty":0.5,"order_type":"market","reason":"model"}'
admin price '{"symbol":"ETH-USDT","price":3045}'
sleep 2
quiet flatten ETH-USDT --yes
admin faults '{"rateLimitEvery":4}'
sleep 3
admin faults '{"rateLimitEvery":0}'
sleep 2
kill "$(cat "$home/pink.pid")"; sleep 3
end=$(date -u -d '+1 min' +%H:%M)

pink timeline --since "$start" --until "$end" --symbol ETH-USDT
pink report --since 1h --html "$home/report.html"
kill "$(node -e "console.log(JSON.parse(require('fs').readFileSync('$home/sim/sim.json','utf8')).pid)")" 2>/dev/null
rm -rf "$home"
