// `pink report --html FILE`: one self-contained page, readable offline on any machine: uPlot (MIT)
// and its stylesheet are inlined from node_modules, the report's data is embedded as JSON in a
// <script type="application/json" id="pink-report-data"> element (the same document as --json),
// and nothing is fetched. Charts: the account's equity, its drawdown below the running peak, and
// net PnL per symbol; the tables are plain HTML, so the page says everything without script too.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportDoc } from './report.js';
import { duration } from './report.js';

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(`uplot/dist/${path}`), 'utf8');
}

/** Text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON that cannot end its <script> element or open a comment (every `<` escaped). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const money = (v: number | null): string => (v === null ? '-' : (Math.abs(v) < 0.005 ? 0 : v).toFixed(2));
const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Draws the three charts from the embedded data; runs in the browser, after uPlot's own script. */
const CHART_SCRIPT = `
(function () {
  var doc = JSON.parse(document.getElementById('pink-report-data').textContent);
  var width = Math.min(960, document.body.clientWidth - 32);
  // Times are UTC everywhere in pink: the axes too, whatever the browser's zone.
  var utc = function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); };
  var money = { size: 80, values: function (u, vals) { return vals.map(function (v) { return v.toFixed(2); }); } };
  var ts = doc.equity.map(function (p) { return p.ts_ms / 1000; });
  if (ts.length >= 2) {
    new uPlot({ title: 'Equity (USDT)', width: width, height: 260, tzDate: utc, axes: [{}, money], series: [{}, { label: 'equity', stroke: '#2563eb', width: 2 }] },
      [ts, doc.equity.map(function (p) { return p.equity; })], document.getElementById('equity'));
    new uPlot({ title: 'Drawdown below the running peak (USDT)', width: width, height: 180, tzDate: utc, axes: [{}, money],
      series: [{}, { label: 'drawdown', stroke: '#dc2626', fill: 'rgba(220,38,38,0.15)', width: 1 }] },
      [ts, doc.equity.map(function (p) { return -p.drawdown; })], document.getElementById('drawdown'));
  }
  if (doc.symbols.length > 0) {
    var xs = doc.symbols.map(function (_, i) { return i; });
    var bars = function (color, fill) { return { stroke: color, fill: fill, paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }; };
    var gain = bars('#059669', 'rgba(5,150,105,0.35)');
    gain.label = 'net gain';
    var loss = bars('#dc2626', 'rgba(220,38,38,0.35)');
    loss.label = 'net loss';
    new uPlot({ title: 'Net PnL per symbol (USDT)', width: width, height: 220,
      scales: { x: { time: false, range: [-0.5, doc.symbols.length - 0.5] } },
      axes: [{ splits: function () { return xs; }, values: function () { return doc.symbols.map(function (s) { return s.symbol; }); } }, money],
      series: [{}, gain, loss] },
      [xs, doc.symbols.map(function (s) { return s.net >= 0 ? s.net : null; }), doc.symbols.map(function (s) { return s.net < 0 ? s.net : null; })],
      document.getElementById('symbols-chart'));
  }
})();`;

/** The whole page. */
export function renderHtml(doc: ReportDoc, generated_iso: string): string {
  const s = doc.summary;
  const summary = table(
    ['realized', 'fees', 'funding', 'net', 'trades', 'win rate', 'average hold', 'max drawdown', 'exposure now', 'best', 'worst'],
    [[
      money(s.realized), money(s.fees), money(s.funding), money(s.net), String(s.trades), pct(s.win_rate), duration(s.avg_hold_s), money(s.max_drawdown),
      money(s.exposure_usdt), s.best_symbol ? `${s.best_symbol.symbol} ${money(s.best_symbol.net)}` : '-', s.worst_symbol ? `${s.worst_symbol.symbol} ${money(s.worst_symbol.net)}` : '-',
    ]],
  );
  const symbols = table(['symbol', 'trades', 'win rate', 'avg hold', 'realized', 'fees', 'funding', 'net'], doc.symbols.map((r) => [r.symbol, String(r.trades), pct(r.win_rate), duration(r.avg_hold_s), money(r.realized), money(r.fees), money(r.funding), money(r.net)]));
  const days = table(['day (UTC)', 'trades', 'win rate', 'realized', 'fees', 'funding', 'net', 'equity at end'], doc.days.map((d) => [d.day, String(d.trades), pct(d.win_rate), money(d.realized), money(d.fees), money(d.funding), money(d.net), money(d.equity_end)]));
  const exposure = table(['symbol', 'state', 'side', 'qty', 'entry', 'mark', 'unrealized', 'notional'], doc.exposure.map((e) => [e.symbol, e.state, e.side, String(e.qty), money(e.entry_price), money(e.mark_price), money(e.unrealized_pnl), money(e.notional_usdt)]));
  const title = `PINK report ${doc.since} .. ${doc.until}${doc.symbol ? ` ${doc.symbol}` : ''}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pink report">
<title>${escapeHtml(title)}</title>
<style>${asset('uPlot.min.css')}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #111; }
table { border-collapse: collapse; margin: 8px 0 20px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
h2 { margin-top: 28px; font-size: 16px; }
.note { color: #555; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Times UTC, money USDT. Generated ${escapeHtml(generated_iso)} by <code>pink report --html</code>; every figure is a ClickHouse query over PINK's rows. Funding paid is positive, like fees; net = realized - fees - funding.</p>
<h2>Summary</h2>
${summary}
<h2>Equity and drawdown</h2>
<div id="equity"></div>
<div id="drawdown"></div>
<p class="note">${doc.equity.length >= 2 ? `The account's equity as recorded (a row at each fill, fee, funding and reconcile), ${doc.equity.length} points.` : 'Fewer than two account rows in the window: no curve.'}</p>
<h2>Per symbol</h2>
<div id="symbols-chart"></div>
${symbols}
<h2>Per day</h2>
${days}
<h2>Exposure at the end of the window</h2>
${doc.exposure.length > 0 ? exposure : '<p>Flat.</p>'}
<script type="application/json" id="pink-report-data">${scriptJson(doc)}</script>
<script>${asset('uPlot.iife.min.js')}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
