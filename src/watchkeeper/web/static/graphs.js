// The service page's graphs: the metrics API's points drawn with uPlot (served from
// /static/vendor), one chart per graph definition (web/graph_defs.py): units in words on the
// axes and under the cursor, WARN and CRIT as lines, the check's own trend projected where it
// has one, drag to zoom and double-click to zoom out. Without this script the page keeps its
// server-drawn SVG graphs.
"use strict";

(function () {
  const section = document.querySelector("section.charts");
  if (!section || typeof uPlot === "undefined") {
    return;
  }
  const GROWTH = "_growth_bytes_per_second";
  const PROJECTION = 0.25;  // a quarter of the range ahead, as the SVG graphs do
  const COLOURS = ["#2f6fb0", "#c26a1b", "#3c8c4a", "#8a4fb0", "#b03a4a", "#5a8a9a"];
  const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

  function trim(number, digits) {
    const text = number.toFixed(digits);
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  }

  function bytes(value) {
    let size = Math.abs(value);
    let index = 0;
    while (size >= 1024 && index < IEC.length - 1) {
      size /= 1024;
      index += 1;
    }
    return trim(size, size < 10 ? 2 : 1) + " " + IEC[index];
  }

  function duration(value) {
    const s = Math.abs(value);
    if (s < 1) return trim(s * 1000, 1) + " ms";
    if (s < 120) return trim(s, 1) + " s";
    if (s < 7200) return trim(s / 60, 1) + " min";
    if (s < 172800) return trim(s / 3600, 1) + " h";
    return trim(s / 86400, 1) + " days";
  }

  // Values in words for a unit. Mirrored graphs draw the second series below zero: its values
  // are shown without the sign, and no value is ever "-0".
  function formatter(unit) {
    return function (value) {
      if (value === null || value === undefined || Number.isNaN(value)) return "–";
      const v = Math.abs(value) < 1e-12 ? 0 : Math.abs(value);
      if (unit === "B") return bytes(v);
      if (unit === "B/s") return bytes(v) + "/s";
      if (unit === "%") return trim(v, v < 10 ? 2 : 1) + " %";
      if (unit === "s") return duration(v);
      if (unit === "/s") return trim(v, v < 10 ? 2 : 1) + "/s";
      return trim(v, v < 10 ? 2 : 1);
    };
  }

  // One x axis for the chart's series: every time any of them has a point; null where one has none.
  function align(series, extra) {
    const times = new Set();
    series.forEach(function (one) { one.points.forEach(function (p) { times.add(p[0]); }); });
    extra.forEach(function (t) { times.add(t); });
    const xs = Array.from(times).sort(function (a, b) { return a - b; });
    const index = new Map(xs.map(function (t, i) { return [t, i]; }));
    const ys = series.map(function (one) {
      const column = new Array(xs.length).fill(null);
      one.points.forEach(function (p) { column[index.get(p[0])] = p[1]; });
      return column;
    });
    return [xs, ys];
  }

  function levelsPlugin(levels, format) {
    // WARN and CRIT as dashed lines, each labelled at the left; a label that would overlap the
    // other moves below its line
    return {
      hooks: {
        draw: [function (u) {
          const ctx = u.ctx;
          let lastY = null;
          levels.forEach(function (level) {
            const y = Math.round(u.valToPos(level.value, "y", true));
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
            ctx.save();
            ctx.strokeStyle = level.colour;
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.fillStyle = level.colour;
            ctx.font = (11 * devicePixelRatio) + "px sans-serif";
            ctx.textAlign = "right";  // at the plot's right end, inside it: never over the axis
            ctx.textBaseline = "alphabetic";
            const below = lastY !== null && Math.abs(lastY - y) < 14 * devicePixelRatio;
            ctx.fillText(level.name + " " + format(level.value), u.bbox.left + u.bbox.width - 4 * devicePixelRatio,
                         below ? y + 12 * devicePixelRatio : y - 3 * devicePixelRatio);
            ctx.restore();
            lastY = y;
          });
        }],
      },
    };
  }

  function draw(figure, spec, byName, start, end) {
    const members = spec.metrics.map(function (m) { return byName.get(m); }).filter(Boolean);
    if (!members.length) return false;
    const format = formatter(spec.unit);
    const last = members[0].points[members[0].points.length - 1];
    const growthSeries = spec.metrics.length === 1 && spec.metrics[0].endsWith("_used_bytes")
      ? byName.get(spec.metrics[0].slice(0, -"_used_bytes".length) + GROWTH) : undefined;
    const growth = growthSeries && growthSeries.points.length
      ? growthSeries.points[growthSeries.points.length - 1][1] : null;
    const until = growth !== null && last ? end + (end - start) * PROJECTION : end;
    const aligned = align(members, growth !== null && last ? [until] : []);
    const xs = aligned[0];
    let ys = aligned[1];
    if (spec.kind === "stacked") {
      let below = new Array(xs.length).fill(0);
      ys = ys.map(function (column) {
        const summed = column.map(function (v, i) { return v === null ? null : v + below[i]; });
        below = summed.map(function (v, i) { return v === null ? below[i] : v; });
        return summed;
      });
    } else if (spec.kind === "mirrored" && ys.length === 2) {
      ys[1] = ys[1].map(function (v) { return v === null ? null : -v; });
    }
    const series = [{}];
    members.forEach(function (one, i) {
      const colour = COLOURS[i % COLOURS.length];
      series.push({
        label: spec.labels[spec.metrics.indexOf(one.metric)] || one.metric,
        stroke: colour,
        width: 1.5,
        fill: spec.kind === "stacked" || spec.kind === "mirrored" ? colour + "33" : undefined,
        spanGaps: false,
        value: function (u, v) { return format(v); },
      });
    });
    const data = [xs].concat(ys);
    if (growth !== null && last) {
      // the check's own fit from the newest point; used space never below zero
      const projected = xs.map(function (t) {
        if (t === last[0]) return last[1];
        if (t === until) return Math.max(0, last[1] + growth * (until - last[0]));
        return null;
      });
      data.push(projected);
      series.push({label: "the check's trend", stroke: "#666", dash: [4, 4], width: 1.5, spanGaps: true,
                   value: function (u, v) { return format(v); }});
    }
    const levels = [];
    members.forEach(function (one) {
      if (one.warn !== null) levels.push({name: "WARN", value: one.warn, colour: "#c89400"});
      if (one.crit !== null) levels.push({name: "CRIT", value: one.crit, colour: "#c0392b"});
    });
    const title = document.createElement("figcaption");
    title.textContent = spec.title;
    figure.appendChild(title);
    const plot = document.createElement("div");
    figure.appendChild(plot);
    const options = {
      width: Math.max(280, figure.clientWidth || 600),
      height: 220,
      series: series,
      scales: {x: {time: true, range: [start, until]},
               y: {range: function (u, lo, hi) {
                 const values = levels.map(function (l) { return l.value; }).concat([lo, hi]);
                 const top = Math.max.apply(null, values);
                 const bottom = Math.min(0, Math.min.apply(null, values));
                 return [bottom, top === bottom ? bottom + 1 : top * 1.05];
               }}},
      axes: [{}, {size: 80, values: function (u, ticks) { return ticks.map(format); }}],
      cursor: {drag: {x: true, y: false}},
      plugins: [levelsPlugin(levels, format)],
    };
    const chart = new uPlot(options, data, plot);
    figure.chart = chart;
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () {
        chart.setSize({width: Math.max(280, figure.clientWidth || 600), height: 220});
      }).observe(figure);
    }
    return true;
  }

  const host = section.dataset.host;
  const service = section.dataset.service;
  const range = section.dataset.range;
  const url = "/api/v1/hosts/" + encodeURIComponent(host) + "/metrics/" + encodeURIComponent(service) +
    "?range=" + encodeURIComponent(range);
  fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (response) {
      if (!response.ok) throw new Error("the metrics API answered " + response.status);
      return response.json();
    })
    .then(function (body) {
      const byName = new Map(body.series.map(function (one) { return [one.metric, one]; }));
      let drawn = 0;
      section.querySelectorAll("figure.chart").forEach(function (figure) {
        if (draw(figure, JSON.parse(figure.dataset.chart), byName, body.start, body.end)) drawn += 1;
      });
      if (drawn) {
        document.body.classList.add("charts-drawn");  // the SVG graphs step aside
      }
      section.dataset.drawn = String(drawn);
    })
    .catch(function (error) {
      const note = document.createElement("p");
      note.className = "chart-error";
      note.textContent = "The graphs could not be drawn here (" + error.message + "); the drawings below are the server's.";
      section.appendChild(note);
      section.dataset.drawn = "0";
    });
})();
