#!/usr/bin/env bash
# Re-plays README's "Flatten → REDUCING → resume" on this machine and prints what each command
# printed (used to paste that section from a real run). Needs `npm install` first. A fresh
# temporary PINK_HOME, the engine's own simulator, the embedded store, the demo strategy (which
# enters on every idle step); the engine and the simulator are stopped at the end.
set -u
cd "$(dirname "$0")/.."
home=$(mktemp -d /tmp/pink-control-XXXX)
export PINK_HOME=$home DOLPHIN_LOG_DIR=$home/logs NO_COLOR=1 DOLPHIN_PINK_POLL_INTERVAL_SEC=0.05
export DOLPHIN_PINK_SYMBOLS=BTC-USDT,ETH-USDT
pink() { echo "\$ pink $*"; node bin/pink.js "$@" 2>&1; echo "[exit $?]"; echo; }
eth_open() { node bin/pink.js ditav2-status --json 2>/dev/null | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const d=JSON.parse(s);process.exit((d.slots||[]).some(x=>x.symbol==='ETH-USDT'&&x.state==='OPEN')?0:1)})"; }
wait_eth_open() { for _ in $(seq 1 100); do eth_open && return 0; sleep 0.2; done; echo "ETH-USDT never opened"; }

node bin/pink.js run --detach --strategy demo > /dev/null 2>&1
wait_eth_open
pink flatten ETH-USDT --yes
sleep 2
pink flatten ETH-USDT --yes
pink ditav2-status
pink resume ETH-USDT
wait_eth_open
echo "\$ pink ditav2-status --json   (the trading keys only)"
node bin/pink.js ditav2-status --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const d=JSON.parse(s);const k=['trading_state','trading_state_reason','trading_state_since'];const pick=(o,ks)=>Object.fromEntries(ks.map(x=>[x,o[x]]));console.log(JSON.stringify({engine:pick(d.engine,['up',...k]),slots:d.slots.map(x=>pick(x,['symbol','state','side','qty',...k]))},null,2))})"
echo "[exit ${PIPESTATUS[0]}]"
kill "$(cat "$home/pink.pid")" 2>/dev/null; sleep 2
kill "$(node -e "console.log(JSON.parse(require('fs').readFileSync('$home/sim/sim.json','utf8')).pid)")" 2>/dev/null
rm -rf "$home"
