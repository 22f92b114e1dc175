// chart.js: a small live line chart on a <canvas>, one line per series.
// The numbers it draws are also shown in a table next to it (for screen
// readers and for reading exact values).

import { h, clear, fmtNum } from './ui.js';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

export class LineChart {
  // opts: {label, unit, points (kept per series)}
  constructor(opts) {
    this.opts = Object.assign({ points: 60, unit: '' }, opts);
    this.series = new Map(); // name -> number[]
    this.colors = new Map();
    this.canvas = h('canvas', { role: 'img', 'aria-label': this.opts.label, height: 180 });
    this.legend = h('ul', { class: 'legend' });
    this.el = h('figure', { class: 'chart' }, h('figcaption', null, this.opts.label), this.canvas, this.legend);
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.canvas);
  }

  // One sample: {seriesName: value}. Series absent now get 0.
  push(sample) {
    for (const name of Object.keys(sample)) {
      if (!this.series.has(name)) {
        this.series.set(name, []);
        this.colors.set(name, PALETTE[(this.colors.size) % PALETTE.length]);
      }
    }
    for (const [name, arr] of this.series) {
      arr.push(Number.isFinite(sample[name]) ? sample[name] : 0);
      if (arr.length > this.opts.points) arr.shift();
    }
    this.draw();
  }

  destroy() {
    this.resizeObserver.disconnect();
  }

  draw() {
    const c = this.canvas;
    const w = c.clientWidth || 300, hgt = c.clientHeight || 180;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(hgt * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(hgt * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const style = getComputedStyle(c);
    const fg = style.getPropertyValue('--chart-fg').trim() || '#475569';
    const grid = style.getPropertyValue('--chart-grid').trim() || '#e2e8f0';
    let max = 0;
    for (const arr of this.series.values()) for (const v of arr) max = Math.max(max, v);
    const top = niceCeil(max);
    const left = 44, right = 8, tp = 8, bottom = 18;
    const pw = Math.max(10, w - left - right), ph = Math.max(10, hgt - tp - bottom);
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = fg;
    g.strokeStyle = grid;
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const y = tp + ph - (ph * i) / 4;
      g.beginPath();
      g.moveTo(left, Math.round(y) + 0.5);
      g.lineTo(left + pw, Math.round(y) + 0.5);
      g.stroke();
      g.fillText(tick((top * i) / 4), left - 6, y);
    }
    g.textAlign = 'left';
    g.textBaseline = 'alphabetic';
    g.fillText(this.opts.xlabel || '', left, hgt - 4);
    const n = this.opts.points;
    for (const [name, arr] of this.series) {
      g.strokeStyle = this.colors.get(name);
      g.lineWidth = 2;
      g.beginPath();
      arr.forEach((v, i) => {
        const x = left + (pw * (n - arr.length + i)) / (n - 1);
        const y = tp + ph - (top > 0 ? (ph * v) / top : 0);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    }
    this.drawLegend();
  }

  drawLegend() {
    clear(this.legend);
    for (const [name, arr] of this.series) {
      const last = arr.length ? arr[arr.length - 1] : 0;
      const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.backgroundColor = this.colors.get(name);
      this.legend.appendChild(h('li', null, sw, h('span', { class: 'name' }, name), h('span', { class: 'value' }, fmtNum(last) + this.opts.unit)));
    }
    if (!this.series.size) this.legend.appendChild(h('li', { class: 'muted' }, 'No traffic yet'));
  }
}

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function tick(v) {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
}
