// Live chart of the node's load average and CPU use. Kiada relays the agent's event stream on
// /events, so the browser only ever talks to Kiada. No libraries: a canvas and ~150 lines.
(function () {
  "use strict";
  const MAX_POINTS = 120;  // two minutes at the agent's default 1 s interval
  const MIN_SPAN = 20;
  const canvas = document.getElementById("chart");
  const state = document.getElementById("live-state");
  const points = [];  // {t: ms, load: number|null, busy: percent|null}
  let drawn = 0;       // live points drawn so far (exposed as data-points for tests)

  function text(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function setState(label, cls) {
    state.textContent = label;
    state.className = "state " + cls;
  }

  function formatUptime(seconds) {
    if (seconds == null) return "\u2013";
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
  }

  function busyPercent(doc) {
    const u = doc.cpu && doc.cpu.utilisation;
    if (!u || u.idle == null) return null;
    return Math.max(0, Math.min(100, (1 - u.idle - (u.iowait || 0)) * 100));
  }

  function niceCeiling(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width;
    const h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const css = getComputedStyle(document.documentElement);
    const colLoad = css.getPropertyValue("--load").trim() || "#2b6cb0";
    const colCpu = css.getPropertyValue("--cpu").trim() || "#d9822b";
    const left = 44, right = 48, top = 10, bottom = 24;
    const pw = w - left - right, ph = h - top - bottom;

    const loads = points.map((p) => p.load).filter((v) => v != null);
    const loadMax = niceCeiling(Math.max(1, ...loads) * 1.1);

    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + ph - (ph * i) / 4;
      ctx.strokeStyle = "#e2e8f0";
      ctx.beginPath(); ctx.moveTo(left, y + 0.5); ctx.lineTo(left + pw, y + 0.5); ctx.stroke();
      ctx.fillStyle = colLoad; ctx.textAlign = "right"; ctx.textBaseline = "middle";
      ctx.fillText(((loadMax * i) / 4).toFixed(loadMax < 4 ? 2 : 1), left - 6, y);
      ctx.fillStyle = colCpu; ctx.textAlign = "left";
      ctx.fillText((25 * i) + "%", left + pw + 6, y);
    }
    ctx.fillStyle = "#5b6878"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    if (points.length === 0) {
      ctx.fillText("waiting for the node agent\u2026", left + pw / 2, top + ph + 6);
      return;
    }
    ctx.fillText("last " + Math.max(MIN_SPAN, points.length) + " samples", left + pw / 2,
                 top + ph + 6);

    // Newest sample at the right edge; older ones scroll left. The window starts at MIN_SPAN
    // samples and grows to MAX_POINTS, so a freshly opened page already shows a readable line.
    const span = Math.max(MIN_SPAN, points.length);
    const x = (i) => left + (pw * (span - points.length + i)) / (span - 1);
    function series(key, scale, color, fill) {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.beginPath();
      let started = false, first = null, last = null;
      points.forEach((p, i) => {
        if (p[key] == null) { started = false; return; }
        const px = x(i), py = top + ph - Math.min(1, p[key] / scale) * ph;
        if (!started) { ctx.moveTo(px, py); started = true; if (first == null) first = px; }
        else ctx.lineTo(px, py);
        last = [px, py];
      });
      ctx.stroke();
      if (fill && first != null) {
        ctx.lineTo(last[0], top + ph); ctx.lineTo(first, top + ph); ctx.closePath();
        ctx.globalAlpha = 0.12; ctx.fillStyle = color; ctx.fill(); ctx.globalAlpha = 1;
      }
      if (last) { ctx.fillStyle = color; ctx.beginPath(); ctx.arc(last[0], last[1], 3, 0, 7); ctx.fill(); }
    }
    series("busy", 100, colCpu, true);
    series("load", loadMax, colLoad, false);
  }

  function onNode(ev) {
    let doc;
    try { doc = JSON.parse(ev.data); } catch (e) { return; }
    const load = doc.load ? doc.load["1m"] : null;
    const busy = busyPercent(doc);
    points.push({ t: Date.now(), load: load, busy: busy });
    if (points.length > MAX_POINTS) points.shift();
    text("load1", load == null ? "\u2013" : load.toFixed(2));
    text("cpu-busy", busy == null ? "\u2013" : busy.toFixed(1) + "%");
    text("threads", doc.threads ? doc.threads.running + "/" + doc.threads.total : "\u2013");
    text("uptime", formatUptime(doc.uptime_seconds));
    setState("live from " + doc.node, "live");
    draw();
    drawn++;
    canvas.dataset.points = String(drawn);
    document.title = document.title.replace(/ \(\d+\)$/, "") + " (" + drawn + ")";
  }

  function onAgentError(ev) {
    let msg = ev.data;
    try { msg = JSON.parse(ev.data).error; } catch (e) { /* plain text */ }
    setState("agent: " + msg, "error");
  }

  window.addEventListener("resize", draw);
  draw();
  if (!window.EventSource) { setState("no EventSource in this browser", "error"); return; }
  const source = new EventSource("/events");
  source.addEventListener("node", onNode);
  source.addEventListener("agent-error", onAgentError);
  source.onerror = function () { setState("reconnecting to Kiada\u2026", "error"); };
})();
