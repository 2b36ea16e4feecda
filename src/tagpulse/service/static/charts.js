// tagpulse charts: small SVG line, pie and stacked-area charts drawn from the API's JSON.
// Every text goes through textContent, so a hostile tag name cannot become markup.
"use strict";
(function (global) {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const color = (i) => PALETTE[i % PALETTE.length];

  function el(tag, attrs, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    const node = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    node.textContent = content;
    return node;
  }

  function legend(container, labels) {
    const box = document.createElement("div");
    box.className = "legend";
    labels.forEach((label, i) => {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = color(i);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(label));
      box.appendChild(item);
    });
    container.appendChild(box);
  }

  function fmt(n) {
    const abs = Math.abs(n);
    if (abs >= 1e9) return (n / 1e9).toFixed(1) + "B";
    if (abs >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (abs >= 1e4) return (n / 1e3).toFixed(0) + "k";
    return String(Math.round(n * 100) / 100);
  }

  // series: {label: [[iso, value], ...]}
  function line(container, series, opts) {
    opts = opts || {};
    const W = 960, H = 360, L = 70, R = 20, T = 20, B = 40;
    const labels = Object.keys(series);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "chart",
      "data-kind": "line", role: "img", "aria-label": opts.title || "chart" });
    const pts = labels.flatMap((k) => series[k].map(([t, v]) => [Date.parse(t), v]));
    if (!pts.length) {
      text(svg, W / 2, H / 2, "no data", { "text-anchor": "middle" });
      container.appendChild(svg);
      return svg;
    }
    const t0 = Math.min(...pts.map((p) => p[0])), t1 = Math.max(...pts.map((p) => p[0]));
    let v0 = Math.min(...pts.map((p) => p[1])), v1 = Math.max(...pts.map((p) => p[1]));
    if (opts.zero) v0 = Math.min(0, v0);
    if (v1 === v0) { v1 += 1; v0 -= 1; }
    const x = (t) => L + ((t - t0) / ((t1 - t0) || 1)) * (W - L - R);
    const y = (v) => T + (1 - (v - v0) / (v1 - v0)) * (H - T - B);
    for (let i = 0; i <= 4; i++) {
      const v = v0 + ((v1 - v0) * i) / 4;
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eee" }, svg);
      text(svg, L - 6, y(v) + 4, fmt(v), { "text-anchor": "end" });
    }
    [t0, t1].forEach((t, i) => text(svg, x(t), H - 14, new Date(t).toISOString().slice(0, 16).replace("T", " "),
      { "text-anchor": i ? "end" : "start" }));
    labels.forEach((label, i) => {
      const points = series[label].map(([t, v]) => [x(Date.parse(t)), y(v)]);
      const path = el("path", { d: points.map((p, j) => (j ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1)).join(""),
        fill: "none", stroke: color(i), "stroke-width": 1.8, class: "series",
        "data-label": label, "data-points": points.length }, svg);
      const title = el("title", {}, path);
      title.textContent = label;
    });
    container.appendChild(svg);
    legend(container, labels);
    return svg;
  }

  // slices: [{label, value}]
  function pie(container, slices, opts) {
    opts = opts || {};
    const svg = el("svg", { viewBox: "0 0 360 360", width: 360, class: "chart", "data-kind": "pie",
      role: "img", "aria-label": opts.title || "pie" });
    const total = slices.reduce((s, x) => s + Math.max(x.value, 0), 0);
    let angle = -Math.PI / 2;
    slices.forEach((s, i) => {
      const share = total ? Math.max(s.value, 0) / total : 0;
      if (share <= 0) return;
      const a1 = angle + share * 2 * Math.PI;
      const large = share > 0.5 ? 1 : 0;
      const p = (a) => [180 + 160 * Math.cos(a), 180 + 160 * Math.sin(a)];
      const [x0, y0] = p(angle), [x1, y1] = p(a1 - (share >= 0.9999 ? 1e-4 : 0));
      const path = el("path", { d: `M180,180 L${x0},${y0} A160,160 0 ${large} 1 ${x1},${y1} Z`,
        fill: color(i), class: "slice", "data-label": s.label, "data-share": share.toFixed(4) }, svg);
      el("title", {}, path).textContent = `${s.label}: ${(share * 100).toFixed(1)}%`;
      angle = a1;
    });
    container.appendChild(svg);
    legend(container, slices.map((s) => s.label));
    return svg;
  }

  // buckets: [[iso, {label: share}]], labels: [label]
  function area(container, labels, buckets, opts) {
    opts = opts || {};
    const W = 960, H = 300, L = 50, R = 20, T = 10, B = 30;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "chart",
      "data-kind": "area", role: "img", "aria-label": opts.title || "area" });
    if (!buckets.length) {
      text(svg, W / 2, H / 2, "no data", { "text-anchor": "middle" });
      container.appendChild(svg);
      return svg;
    }
    if (buckets.length === 1) buckets = [buckets[0], [new Date(Date.parse(buckets[0][0]) + 1).toISOString(), buckets[0][1]]];
    const ts = buckets.map((b) => Date.parse(b[0]));
    const t0 = ts[0], t1 = ts[ts.length - 1];
    const x = (t) => L + ((t - t0) / ((t1 - t0) || 1)) * (W - L - R);
    const y = (s) => T + (1 - s) * (H - T - B);
    const stacked = buckets.map((b) => { let run = 0; return labels.map((l) => (run += Math.max(b[1][l] || 0, 0))); });
    labels.forEach((label, i) => {
      const top = ts.map((t, j) => [x(t), y(stacked[j][i])]);
      const bottom = ts.map((t, j) => [x(t), y(i ? stacked[j][i - 1] : 0)]).reverse();
      const poly = el("polygon", { points: top.concat(bottom).map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" "),
        fill: color(i), "fill-opacity": 0.85, class: "band", "data-label": label, "data-points": ts.length }, svg);
      el("title", {}, poly).textContent = label;
    });
    [0, 0.5, 1].forEach((s) => text(svg, L - 6, y(s) + 4, `${s * 100}%`, { "text-anchor": "end" }));
    container.appendChild(svg);
    legend(container, labels);
    return svg;
  }

  global.TagpulseCharts = { line: line, pie: pie, area: area };
})(window);
