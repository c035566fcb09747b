// Live chart of the node's load average and CPU use. Kiada relays the agent's event stream on
// /events, so the browser only ever talks to Kiada. No libraries: a canvas and a few functions.
//
// Liveness: Kiada sends `node` events per sample and `heartbeat` events (the latest sample
// again) on a quiet stream, `agent-error` while the agent is unreachable. With no message for
// STALE_MS, or on an error, the readout and chart are marked stale; the next sample clears the
// mark by itself. The Node info card follows the badge: an error shows there too, and once live
// data is back the card is re-read from /node-info, so the two never disagree for long.
//
// The pure part (validation, formatting) is exported for node, so it is unit-tested without a
// browser (tests/unit/kiada/kiada_js_test.js).
(function () {
  "use strict";
  const MAX_POINTS = 120;  // two minutes at the agent's default 1 s interval
  const MIN_SPAN = 20;
  const STALE_MS = 6000;   // Kiada heartbeats every 2 s on a healthy stream

  // Control characters (C0, DEL, C1) become \u00XX, like the server's client::printable().
  function printable(s) {
    return String(s).replace(/[\u0000-\u001f\u007f-\u009f]/g,
      (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  }

  function finiteOrNull(v, min, max) {
    return typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? v : null;
  }

  function busyPercent(doc) {
    const u = doc.cpu && typeof doc.cpu === "object" ? doc.cpu.utilisation : null;
    if (!u || typeof u !== "object") return null;
    const idle = finiteOrNull(u.idle, 0, 1);
    if (idle == null) return null;
    const iowait = u.iowait == null ? 0 : finiteOrNull(u.iowait, 0, 1);
    if (iowait == null) return null;
    return Math.max(0, Math.min(100, (1 - idle - iowait) * 100));
  }

  // The root filesystem's used share in percent as `df` computes Use%: used / (used + avail),
  // used = size - free (blocks reserved for root count as neither), from the agent's
  // "filesystems" (present with --rootfs); null when absent or not a sane reading.
  function rootUsedPercent(doc) {
    if (!Array.isArray(doc.filesystems)) return null;
    const root = doc.filesystems.find((f) => f && typeof f === "object" && f.mountpoint === "/");
    if (!root) return null;
    const size = finiteOrNull(root.size_bytes, 1, Number.MAX_VALUE);
    const free = finiteOrNull(root.free_bytes, 0, Number.MAX_VALUE);
    const avail = finiteOrNull(root.avail_bytes, 0, Number.MAX_VALUE);
    if (size == null || free == null || avail == null || free > size || avail > free) return null;
    const used = size - free;
    return used + avail > 0 ? used / (used + avail) * 100 : null;
  }

  // Bytes per second received and sent by the node, summed over its interfaces; null until the
  // agent has two samples (or without the netdev source).
  function networkRates(doc) {
    if (!Array.isArray(doc.network_devices) || doc.network_devices.length === 0) return null;
    let rx = 0, tx = 0;
    for (const d of doc.network_devices) {
      if (!d || typeof d !== "object") return null;
      const r = finiteOrNull(d.receive_bytes_per_second, 0, Number.MAX_VALUE);
      const t = finiteOrNull(d.transmit_bytes_per_second, 0, Number.MAX_VALUE);
      if (r == null || t == null) return null;
      rx += r; tx += t;
    }
    return { rx: rx, tx: tx };
  }

  // 1536 -> "1.5 KB/s": decimal units, as network rates are usually quoted.
  function formatRate(bytesPerSecond) {
    if (bytesPerSecond == null) return "\u2013";
    const units = ["B/s", "KB/s", "MB/s", "GB/s"];
    let v = bytesPerSecond, i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return (i === 0 ? Math.round(v) : v.toFixed(1)) + " " + units[i];
  }

  // One agent document (already JSON-parsed) -> the sample the page shows, every field checked:
  // a field of the wrong type or out of range is missing (null), never NaN or a thrown
  // TypeError. Not an object, or no node name: null (the event is ignored).
  function validSample(doc) {
    if (doc == null || typeof doc !== "object" || Array.isArray(doc)) return null;
    if (typeof doc.node !== "string" || doc.node === "") return null;
    const load = doc.load && typeof doc.load === "object" ? doc.load : {};
    const th = doc.threads && typeof doc.threads === "object" ? doc.threads : {};
    const running = finiteOrNull(th.running, 0, Number.MAX_SAFE_INTEGER);
    const total = finiteOrNull(th.total, 0, Number.MAX_SAFE_INTEGER);
    return {
      node: printable(doc.node),
      time: typeof doc.time === "string" ? doc.time : null,
      load: finiteOrNull(load["1m"], 0, 1e9),
      busy: busyPercent(doc),
      threads: running != null && total != null ? { running: running, total: total } : null,
      uptime: finiteOrNull(doc.uptime_seconds, 0, 1e12),
      rootUsed: rootUsedPercent(doc),
      network: networkRates(doc),
    };
  }

  function formatUptime(seconds) {
    if (seconds == null) return "\u2013";
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { validSample: validSample, formatUptime: formatUptime, printable: printable,
                       formatRate: formatRate };
  }
  if (typeof document === "undefined") return;

  const canvas = document.getElementById("chart");
  const state = document.getElementById("live-state");
  const card = document.getElementById("node-info");
  const readout = document.querySelector(".readout");
  const points = [];  // {t: ms, load: number|null, busy: percent|null}
  let drawn = 0;       // live points drawn so far (exposed as data-points for tests)
  let lastTime = null; // the agent's time of the newest point (heartbeats repeat it)
  let lastMessage = Date.now();
  let stale = false;
  let cardRefresh = 0;  // when the card was last re-read

  function text(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function setState(label, cls) {
    state.textContent = label;
    state.className = "state " + cls;
  }

  function setStale(on, label) {
    stale = on;
    document.body.dataset.stale = on ? "true" : "false";
    for (const el of [readout, canvas, card]) if (el) el.classList.toggle("stale", on);
    if (on) setState(label, "error");
  }

  function setCard(line, ok) {
    card.textContent = "Node info: " + line;
    card.className = ok ? "ok" : "error";
  }

  // Live data is back while the card still shows an error: re-read it (at most every 2 s).
  function refreshCard() {
    if (!card.classList.contains("error") || Date.now() - cardRefresh < 2000) return;
    cardRefresh = Date.now();
    fetch("/node-info", { cache: "no-store" })
      .then((r) => r.text().then((t) => setCard(printable(t.replace(/\n$/, "")), r.ok)))
      .catch(() => { cardRefresh = 0; });
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

  function onSample(ev) {
    lastMessage = Date.now();
    let doc;
    try { doc = JSON.parse(ev.data); } catch (e) { return; }
    const sample = validSample(doc);
    if (sample == null) return;
    if (sample.time == null || sample.time !== lastTime) {
      lastTime = sample.time;
      points.push({ t: Date.now(), load: sample.load, busy: sample.busy });
      if (points.length > MAX_POINTS) points.shift();
      draw();
      drawn++;
      canvas.dataset.points = String(drawn);
      document.title = document.title.replace(/ \(\d+\)$/, "") + " (" + drawn + ")";
    }
    text("load1", sample.load == null ? "\u2013" : sample.load.toFixed(2));
    text("cpu-busy", sample.busy == null ? "\u2013" : sample.busy.toFixed(1) + "%");
    text("threads", sample.threads ? sample.threads.running + "/" + sample.threads.total : "\u2013");
    text("uptime", formatUptime(sample.uptime));
    text("root-used", sample.rootUsed == null ? "\u2013" : sample.rootUsed.toFixed(0) + "%");
    text("net-rx", formatRate(sample.network ? sample.network.rx : null));
    text("net-tx", formatRate(sample.network ? sample.network.tx : null));
    setStale(false);
    setState("live from " + sample.node, "live");
    refreshCard();
  }

  function onAgentError(ev) {
    lastMessage = Date.now();
    let msg = ev.data;
    try { msg = JSON.parse(ev.data).error; } catch (e) { /* plain text */ }
    msg = printable(msg);
    setStale(true, "agent: " + msg);
    setCard("ERROR: " + msg, false);
  }

  window.addEventListener("resize", draw);
  draw();
  document.body.dataset.stale = "false";
  if (!window.EventSource) { setState("no EventSource in this browser", "error"); return; }
  const source = new EventSource("/events");
  source.addEventListener("node", onSample);
  source.addEventListener("heartbeat", onSample);
  source.addEventListener("agent-error", onAgentError);
  source.onerror = function () { setStale(true, "reconnecting to Kiada\u2026"); };
  setInterval(function () {
    const quiet = Date.now() - lastMessage;
    if (!stale && drawn > 0 && quiet > STALE_MS) {
      setStale(true, "no data for " + Math.round(quiet / 1000) + " s");
    }
  }, 1000);
})();
