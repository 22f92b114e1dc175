// history.js: the dashboard's History panel. The daemon keeps per-minute
// counts of the last 24 hours (GET /stats/history), so these charts show
// the traffic from before the page was opened. SVG line charts, one line
// per series, a break where the daemon has no data (before it started);
// each legend gives a series' total over the range shown. Refreshed once a
// minute. No library: the SVG is made here.

import { api, hasPath } from './api.js';
import { h, fmtNum } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const CLASS_COLORS = { '2xx': '#16a34a', '3xx': '#0891b2', '4xx': '#ca8a04', '5xx': '#dc2626', none: '#64748b' };
const RANGES = [[60, 'Last hour'], [360, 'Last 6 hours'], [1440, 'Last 24 hours']];
const MAX_LINES = 8;
const REFRESH_MS = 60000;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

const sumOf = (vals) => vals.reduce((a, v) => a + (v || 0), 0);

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function clock(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// One chart: a <figure> with an SVG and a legend.
export class HistoryChart {
  // opts: {label, unit, total: (values) => legend text}
  constructor(opts) {
    this.opts = opts;
    this.series = [];
    this.svg = svg('svg', { role: 'img', 'aria-label': opts.label, class: 'history-svg', height: 180 });
    this.legend = h('ul', { class: 'legend' });
    this.el = h('figure', { class: 'chart history-chart', 'data-chart': opts.id || '' },
      h('figcaption', null, opts.label), this.svg, this.legend);
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.svg);
  }

  // series: [{name, values: (number|null)[], color?}], the first minute's
  // Unix time and the step in seconds.
  set(series, start, step) {
    this.series = series;
    this.start = start;
    this.step = step;
    this.draw();
  }

  destroy() {
    this.resizeObserver.disconnect();
  }

  draw() {
    const el = this.svg;
    const w = Math.max(200, Math.round(el.getBoundingClientRect().width) || 600), hgt = 180;
    el.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
    el.replaceChildren();
    const n = this.series.length ? this.series[0].values.length : 0;
    let max = 0;
    for (const s of this.series) for (const v of s.values) if (v !== null && v > max) max = v;
    const top = niceCeil(max);
    const left = 44, right = 8, tp = 8, bottom = 20;
    const pw = w - left - right, ph = hgt - tp - bottom;
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(tp + ph - (ph * i) / 4) + 0.5;
      el.append(svg('line', { x1: left, x2: left + pw, y1: y, y2: y, class: 'grid' }));
      const v = (top * i) / 4;
      el.append(svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' },
        Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100)));
    }
    if (n > 1 && this.start) {
      for (const [i, anchor] of [[0, 'start'], [Math.floor((n - 1) / 2), 'middle'], [n - 1, 'end']]) {
        el.append(svg('text', { x: left + (pw * i) / (n - 1), y: hgt - 4, 'text-anchor': anchor, class: 'tick' },
          clock(this.start + i * this.step)));
      }
    }
    this.series.forEach((s, k) => {
      const color = s.color || PALETTE[k % PALETTE.length];
      const dots = [];
      let d = '', drawn = 0;
      s.values.forEach((v, i) => {
        if (v === null) return;
        const x = n > 1 ? left + (pw * i) / (n - 1) : left + pw;
        const y = tp + ph - (ph * v) / top;
        const joined = i > 0 && s.values[i - 1] !== null;
        d += `${joined ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
        drawn++;
        // a minute with data between two without: a dot, or it is not seen
        if (!joined && (i === n - 1 || s.values[i + 1] === null)) dots.push([x, y]);
      });
      if (!drawn) return;
      const path = svg('path', { d: d.trim(), fill: 'none', stroke: color, 'stroke-width': 2, 'data-series': s.name, class: 'line' });
      path.append(svg('title', null, s.name));
      el.append(path);
      for (const [x, y] of dots) el.append(svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 3, fill: color }));
    });
    this.drawLegend();
  }

  drawLegend() {
    this.legend.replaceChildren();
    this.series.forEach((s, k) => {
      const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.backgroundColor = s.color || PALETTE[k % PALETTE.length];
      this.legend.append(h('li', { 'data-series': s.name }, sw, h('span', { class: 'name' }, s.name),
        h('span', { class: 'value' }, this.opts.total(s))));
    });
    if (!this.series.length) this.legend.append(h('li', { class: 'muted' }, 'No traffic in this range'));
  }
}

const seriesName = (x, kind) => (x.other ? `other ${kind}` : x.name || `#${x.id} (deleted)`);
const requestsTotal = (s) => fmtNum(sumOf(s.values), 0) + ' requests';

// The panel: a range choice and four charts. -> {el, stop()}
export function historyPanel() {
  if (!hasPath('/stats/history')) return { el: null, stop() {} };
  const charts = {
    listeners: new HistoryChart({ id: 'listeners', label: 'Requests per minute by listener', total: requestsTotal }),
    routes: new HistoryChart({ id: 'routes', label: 'Requests per minute by route', total: requestsTotal }),
    classes: new HistoryChart({ id: 'classes', label: 'Answers per minute by status class', total: requestsTotal }),
    latency: new HistoryChart({ id: 'latency', label: 'Mean time per request (ms), all listeners', total: (s) => s.summary }),
  };
  const range = h('select', { id: 'history-range', class: 'small' }, RANGES.map(([m, label]) => h('option', { value: String(m) }, label)));
  const note = h('p', { class: 'muted history-note' });
  const error = h('div', { role: 'alert' });
  const el = h('section', { class: 'panel history', 'aria-label': 'History' },
    h('div', { class: 'history-head' }, h('h2', null, 'History'),
      h('label', { for: 'history-range' }, 'Range'), range),
    note, error,
    h('div', { class: 'charts' }, ...Object.values(charts).map((c) => c.el)));
  let timer = null, stopped = false;

  async function load() {
    timer = null;
    try {
      const doc = await api('GET', '/stats/history?minutes=' + range.value);
      if (stopped) return;
      error.replaceChildren();
      show(doc);
    } catch (err) {
      if (stopped || err.status === 401) return;
      error.replaceChildren(h('p', { class: 'alert error' }, 'History unavailable: ' + err.message));
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  }

  function show(doc) {
    const lines = (arr, kind) => arr.slice(0, MAX_LINES).map((x) => ({ name: seriesName(x, kind), values: x.requests }));
    charts.listeners.set(lines(doc.listeners, 'listeners'), doc.start, doc.step_s);
    charts.routes.set(lines(doc.routes, 'routes'), doc.start, doc.step_s);
    const t = doc.total;
    charts.classes.set(['2xx', '3xx', '4xx', '5xx', 'none'].filter((c) => t.responses[c] && sumOf(t.responses[c]))
      .map((c) => ({ name: c, values: t.responses[c], color: CLASS_COLORS[c] })), doc.start, doc.step_s);
    // the range's mean: each minute's mean weighted by its requests
    const n = sumOf(t.requests);
    const mean = n ? sumOf(t.latency_us.map((v, i) => (v || 0) * (t.requests[i] || 0))) / n / 1000 : 0;
    charts.latency.set(n ? [{ name: 'all', values: t.latency_us.map((v) => (v === null ? null : v / 1000)), summary: 'mean ' + fmtNum(mean, 2) + ' ms' }] : [],
      doc.start, doc.step_s);
    note.textContent = (doc.since > doc.start ? `Kept by the daemon since ${clock(doc.since)}, when it started; ` : '')
      + `${fmtNum(n, 0)} requests in this range, per minute.`;
  }

  range.onchange = () => {
    if (timer) clearTimeout(timer);
    load();
  };
  load();
  return {
    el,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const c of Object.values(charts)) c.destroy();
    },
  };
}
