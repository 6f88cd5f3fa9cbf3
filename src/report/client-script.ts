/**
 * The page script of netkit's HTML reports (runs in the browser, plain ES2019): it reads the
 * embedded JSON and draws it with uPlot. Charts whose x axis is time zoom by dragging across
 * them (double-click resets). After drawing, `window.netkitReport` lists each chart's id and
 * point count, for tests and for scripts that screenshot reports.
 */

/** The report's stylesheet. */
export const CLIENT_STYLE = `
body { font: 14px system-ui, sans-serif; margin: 16px 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #ddd; }
.summary { color: #555; margin-bottom: 8px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #eee; padding: 4px; }
.chart h3 { font-size: 13px; margin: 2px 4px; font-weight: 600; }
table { border-collapse: collapse; font-size: 12px; margin: 4px 0 12px; }
td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eee; } td:first-child, th:first-child { text-align: left; }
.tree td:first-child { font-family: monospace; white-space: pre; }
`

/** The page script. */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var root = document.getElementById('report');
  var drawn = [];
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function section(title) { root.appendChild(el('h2', null, title)); var g = el('div', { 'class': 'grid' }); root.appendChild(g); return g; }
  function fmtBytes(n) { var u = ['B', 'KB', 'MB', 'GB', 'TB']; var i = 0; while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; } return (i ? n.toFixed(1) : n) + ' ' + u[i]; }
  function table(parent, cols, rows, cls) {
    var t = el('table', cls ? { 'class': cls } : null); var h = el('tr');
    cols.forEach(function (c) { h.appendChild(el('th', null, c[0])); }); t.appendChild(h);
    rows.forEach(function (r) { var tr = el('tr'); cols.forEach(function (c) { tr.appendChild(el('td', null, String(c[1](r)))); }); t.appendChild(tr); });
    parent.appendChild(t); return t;
  }
  // opts: id, title, x (array), series [{label, values, points (dots only), marks (line and dots), bars}], yLabel, xLabel, time (x is seconds), percentile (x is 1/(1-p)), logY
  function chart(parent, o) {
    var box = el('div', { 'class': 'chart', id: o.id }); box.appendChild(el('h3', null, o.title)); parent.appendChild(box);
    var series = [{ label: o.xLabel || (o.time ? 'seconds' : 'x') }];
    var cols = [o.x];
    var points = 0;
    o.series.forEach(function (s, i) {
      var c = s.color || COLORS[i % COLORS.length];
      var spec = { label: s.label, stroke: c, width: 1.5, spanGaps: false };
      if (s.points) { spec.paths = function () { return null; }; spec.points = { show: true, size: 3, fill: c, stroke: c }; }
      else if (s.bars) { spec.paths = uPlot.paths.bars({ size: [0.9, 50] }); spec.fill = c + '99'; spec.points = { show: false }; }
      else spec.points = s.marks ? { show: true, size: 4, fill: c, stroke: c } : { show: false };
      series.push(spec); cols.push(s.values);
      s.values.forEach(function (v) { if (v !== null && v !== undefined) points++; });
    });
    var axes = [{ label: o.xLabel }, { label: o.yLabel, size: 60 }];
    var scales = { x: { time: false } };
    if (o.percentile) {
      scales.x.distr = 3;
      axes[0].splits = function () { return [1, 2, 10, 100, 1000, 10000, 100000]; };
      axes[0].values = function (u, ticks) { return ticks.map(function (v) { return { 1: '0%', 2: '50%', 10: '90%', 100: '99%', 1000: '99.9%', 10000: '99.99%', 100000: '99.999%' }[v] || ''; }); };
    }
    if (o.logY) scales.y = { distr: 3 };
    var width = o.wide ? Math.min(1200, Math.max(600, window.innerWidth - 80)) : 560;
    var u = new uPlot({ width: width, height: o.height || 260, series: series, axes: axes, scales: scales,
      cursor: { drag: { x: true, y: false } }, legend: { show: true } }, cols, box);
    drawn.push({ id: o.id, points: points, canvas: box.querySelector('canvas') !== null, plot: u });
    return u;
  }
  function captureReport(d) {
    var s = d.summary;
    root.appendChild(el('div', { 'class': 'summary' }, d.file + ': ' + s.packets + ' packets, ' + fmtBytes(s.bytes) + ' in ' + s.duration + ' s, ' +
      s.conversations + ' TCP conversations, ' + s.transactions + ' HTTP transactions'));
    var g = section('I/O graph (drag to zoom, double-click to reset)');
    chart(g, { id: 'io-packets', title: 'Packets per ' + d.io.interval * 1000 + ' ms', x: d.io.t, time: true, wide: true, xLabel: 'seconds', yLabel: 'packets',
      series: [{ label: 'packets', values: d.io.packets }] });
    chart(g, { id: 'io-bytes', title: 'Bytes per ' + d.io.interval * 1000 + ' ms', x: d.io.t, time: true, wide: true, xLabel: 'seconds', yLabel: 'bytes',
      series: [{ label: 'bytes', values: d.io.bytes, color: COLORS[2] }] });
    g = section('Protocol hierarchy');
    var rows = [];
    (function walk(nodes, depth) { nodes.forEach(function (n) { rows.push({ name: new Array(depth + 1).join('  ') + n.protocol, frames: n.frames, bytes: n.bytes, pct: s.packets ? (100 * n.frames / s.packets).toFixed(1) + '%' : '' }); walk(n.children, depth + 1); }); })(d.hierarchy, 0);
    table(g, [['protocol', function (r) { return r.name; }], ['frames', function (r) { return r.frames; }], ['% frames', function (r) { return r.pct; }], ['bytes', function (r) { return r.bytes; }]], rows, 'tree');
    g = section('Top conversations and endpoints');
    var convCols = [['A', function (r) { return r.a; }], ['B', function (r) { return r.b; }], ['frames', function (r) { return r.frames; }], ['bytes', function (r) { return fmtBytes(r.bytes); }],
      ['A→B', function (r) { return fmtBytes(r.aToB); }], ['B→A', function (r) { return fmtBytes(r.bToA); }], ['start s', function (r) { return r.start; }], ['duration s', function (r) { return r.duration; }]];
    var box = el('div'); box.appendChild(el('h3', null, 'TCP')); table(box, convCols, d.conversations.tcp);
    box.appendChild(el('h3', null, 'IPv4')); table(box, convCols, d.conversations.ip);
    if (d.conversations.ipv6.length) { box.appendChild(el('h3', null, 'IPv6')); table(box, convCols, d.conversations.ipv6); }
    g.appendChild(box);
    box = el('div'); box.appendChild(el('h3', null, 'Endpoints'));
    table(box, [['address', function (r) { return r.address; }], ['packets', function (r) { return r.packets; }], ['bytes', function (r) { return fmtBytes(r.bytes); }], ['tx', function (r) { return fmtBytes(r.tx); }], ['rx', function (r) { return fmtBytes(r.rx); }]], d.endpoints.ip.concat(d.endpoints.ipv6));
    g.appendChild(box);
    d.streams.forEach(function (st, i) {
      g = section('TCP stream ' + st.stream + ': ' + st.label + ' (' + fmtBytes(st.bytes) + ')');
      chart(g, { id: 'stevens-' + i, title: 'Stevens graph (' + st.sender + ')', x: st.stevens.t, time: true, xLabel: 'seconds', yLabel: 'sequence number', series: [{ label: 'segment end', values: st.stevens.seq, points: true }] });
      chart(g, { id: 'throughput-' + i, title: 'Throughput', x: st.throughput.t, time: true, xLabel: 'seconds', yLabel: 'bytes/s', series: [{ label: 'A → B', values: st.throughput.aToB, marks: true }, { label: 'B → A', values: st.throughput.bToA, marks: true }] });
      if (st.rtt.t.length) chart(g, { id: 'rtt-' + i, title: 'Round-trip time (' + st.sender + ')', x: st.rtt.t, time: true, xLabel: 'seconds', yLabel: 'ms', series: [{ label: 'RTT ms', values: st.rtt.ms, points: true, color: COLORS[3] }] });
    });
    var h = d.http;
    if (h) {
      g = section('HTTP');
      chart(g, { id: 'http-ttfb', title: 'Time to first byte over time (ms)', x: h.ttfb.t, time: true, xLabel: 'seconds', yLabel: 'ms',
        series: [{ label: 'p50', values: h.ttfb.columns.p50, marks: true }, { label: 'p90', values: h.ttfb.columns.p90, marks: true }, { label: 'p99', values: h.ttfb.columns.p99, marks: true }] });
      chart(g, { id: 'http-total', title: 'Total time over time (ms)', x: h.total.t, time: true, xLabel: 'seconds', yLabel: 'ms',
        series: [{ label: 'p50', values: h.total.columns.p50, marks: true }, { label: 'p90', values: h.total.columns.p90, marks: true }, { label: 'p99', values: h.total.columns.p99, marks: true }] });
      chart(g, { id: 'http-distribution', title: 'Latency distribution (percentile)', x: h.ttfbCurve.x, percentile: true, xLabel: 'percentile', yLabel: 'ms',
        series: [{ label: 'TTFB', values: h.ttfbCurve.y }, { label: 'total', values: h.totalCurve.y }] });
      var codes = Object.keys(h.statusOverTime.columns);
      chart(g, { id: 'http-status', title: 'Status codes over time (responses per bin)', x: h.statusOverTime.t, time: true, xLabel: 'seconds', yLabel: 'responses',
        series: codes.map(function (c) { return { label: c, values: h.statusOverTime.columns[c] }; }) });
      box = el('div');
      box.appendChild(el('h3', null, 'Status codes'));
      table(box, [['status', function (r) { return r[0]; }], ['responses', function (r) { return r[1]; }]], Object.keys(h.statuses).map(function (k) { return [k, h.statuses[k]]; }));
      box.appendChild(el('h3', null, 'Connections per host'));
      table(box, [['host', function (r) { return r.host; }], ['connections', function (r) { return r.connections; }], ['requests', function (r) { return r.requests; }]], h.hosts);
      g.appendChild(box);
    }
  }
  function loadReport(d) {
    var s = d.summary;
    root.appendChild(el('div', { 'class': 'summary' }, s.method + ' ' + s.url + ': ' + s.requests + ' requests in ' + s.durationSec + ' s (' + s.requestsPerSec + ' req/s), ' +
      s.connections + ' connections; dialled ' + s.dialed + ', requests on reused connections ' + s.reused));
    var t = d.timeline.t;
    var g = section('Throughput and latency over time (drag to zoom, double-click to reset)');
    chart(g, { id: 'load-rps', title: 'Requests per second', x: t, time: true, xLabel: 'seconds', yLabel: 'req/s', series: [{ label: 'req/s', values: d.timeline.rps }] });
    chart(g, { id: 'load-latency', title: 'Latency percentiles over time (ms)', x: d.latency.t, time: true, xLabel: 'seconds', yLabel: 'ms',
      series: ['p50', 'p90', 'p99', 'p99.9'].map(function (p) { return { label: p, values: d.latency.columns[p], marks: true }; }) });
    g = section('Latency distribution');
    chart(g, { id: 'load-distribution', title: 'Latency by percentile (HdrHistogram style)', x: d.distribution.x, percentile: true, wide: true, xLabel: 'percentile', yLabel: 'ms',
      series: [{ label: 'latency ms', values: d.distribution.y }] });
    g = section('Connections');
    var conn = d.connections;
    chart(g, { id: 'load-connections', title: 'Connections per bin: dialled, requests on reused ones' + (conn.syns ? ', SYNs on the wire' : ''), x: t, time: true, xLabel: 'seconds', yLabel: 'count',
      series: [{ label: 'dialled', values: conn.dialed }, { label: 'reused', values: conn.reused }].concat(conn.syns ? [{ label: 'SYNs on the wire', values: conn.syns, points: true, color: '#000000' }] : []) });
    var reasons = Object.keys(conn.closed);
    if (reasons.length) chart(g, { id: 'load-closed', title: 'Connections closed per bin, by reason', x: t, time: true, xLabel: 'seconds', yLabel: 'closed',
      series: reasons.map(function (r) { return { label: r, values: conn.closed[r] }; }) });
    g = section('Status codes and errors');
    var keys = Object.keys(d.outcomes);
    chart(g, { id: 'load-status', title: 'Responses by status and errors by kind, per bin', x: t, time: true, xLabel: 'seconds', yLabel: 'count',
      series: keys.map(function (k) { return { label: k, values: d.outcomes[k] }; }) });
    if (d.wire) { var b = el('div'); b.appendChild(el('h3', null, 'On the wire')); table(b, [['', function (r) { return r[0]; }], ['', function (r) { return r[1]; }]], [['interface', d.wire.interface], ['SYNs', d.wire.syns], ['SYN retransmissions', d.wire.synRetransmits], ['dials', s.dialed]]); g.appendChild(b); }
  }
  try {
    if (data.kind === 'load') loadReport(data); else captureReport(data);
  } finally {
    window.netkitReport = { charts: drawn.map(function (c) { return { id: c.id, points: c.points, canvas: c.canvas }; }) };
  }
})();
`
