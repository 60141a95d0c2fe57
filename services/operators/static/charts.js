/* Small SVG line charts for the operator console: no library, works offline. */
"use strict";
const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22", "#393b79", "#637939"];

  function node(tag, attrs, text) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function clock(seconds) {
    return new Date(seconds * 1000).toTimeString().slice(0, 8);
  }

  function nice(value) {
    if (value <= 0) return 1;
    const step = Math.pow(10, Math.floor(Math.log10(value)));
    for (const m of [1, 2, 5, 10]) if (m * step >= value) return m * step;
    return 10 * step;
  }

  function fmt(value) {
    if (value >= 1000) return (value / 1000).toFixed(value >= 10000 ? 0 : 1) + "k";
    return value >= 10 || value === 0 ? String(Math.round(value)) : value.toFixed(value >= 1 ? 1 : 2);
  }

  /* series: [{name, points: [[unix seconds, value|null], ...]}]; draws into svg, fills legend (optional). */
  function line(svg, series, legend) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const box = svg.viewBox.baseVal;
    const W = box.width, H = box.height, L = 44, R = 8, T = 8, B = 20;
    const all = series.flatMap(s => s.points.filter(p => p[1] !== null && p[1] !== undefined));
    svg.dataset.points = String(all.length);
    svg.dataset.series = String(series.filter(s => s.points.some(p => p[1] !== null)).length);
    if (legend) legend.textContent = "";
    if (!all.length) {
      svg.appendChild(node("text", {x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty"}, "no data yet"));
      return;
    }
    const x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
    const top = nice(Math.max(...all.map(p => p[1])));
    const sx = t => L + (x1 === x0 ? (W - L - R) / 2 : (t - x0) / (x1 - x0) * (W - L - R));
    const sy = v => T + (1 - v / top) * (H - T - B);
    for (const f of [0, 0.5, 1]) {
      const y = sy(top * f);
      svg.appendChild(node("line", {x1: L, x2: W - R, y1: y, y2: y, class: f ? "grid" : "axis"}));
      svg.appendChild(node("text", {x: L - 4, y: y + 4, "text-anchor": "end", class: "label"}, fmt(top * f)));
    }
    svg.appendChild(node("text", {x: L, y: H - 4, class: "label"}, clock(x0)));
    svg.appendChild(node("text", {x: W - R, y: H - 4, "text-anchor": "end", class: "label"}, clock(x1)));
    series.forEach((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const pts = s.points.filter(p => p[1] !== null && p[1] !== undefined);
      if (!pts.length) return;
      const d = pts.map((p, j) => (j ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join(" ");
      const path = node("path", {d: pts.length === 1 ? d + " l 0.1 0" : d, class: "series", stroke: colour});
      path.dataset.name = s.name;
      path.appendChild(node("title", {}, s.name));
      svg.appendChild(path);
      if (pts.length === 1) svg.appendChild(node("circle", {cx: sx(pts[0][0]), cy: sy(pts[0][1]), r: 3, fill: colour}));
      if (legend) {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = colour;
        item.appendChild(swatch);
        item.appendChild(document.createTextNode(s.name));
        legend.appendChild(item);
      }
    });
  }

  return {line, clock};
})();
