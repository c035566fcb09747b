// Unit test of the live page's pure part (src/kiada/assets/kiada.js): every field of an agent
// sample is validated before it reaches the chart. Run: node tests/unit/kiada/kiada_js_test.js
"use strict";
const assert = require("assert");
const path = require("path");
const { validSample, formatUptime, printable, formatRate } =
    require(path.join(__dirname, "../../../src/kiada/assets/kiada.js"));

const good = {
  node: "n1", time: "2026-12-01T22:00:00Z", uptime_seconds: 3725.5,
  load: { "1m": 0.5, "5m": 0.4, "15m": 0.3 }, threads: { running: 2, total: 300 },
  cpu: { count: 4, utilisation: { idle: 0.75, iowait: 0.05, user: 0.2 } },
};
let s = validSample(good);
assert.strictEqual(s.node, "n1");
assert.strictEqual(s.time, "2026-12-01T22:00:00Z");
assert.strictEqual(s.load, 0.5);
assert.ok(Math.abs(s.busy - 20) < 1e-9, String(s.busy));
assert.deepStrictEqual(s.threads, { running: 2, total: 300 });
assert.strictEqual(s.uptime, 3725.5);

// The case: "1m": "abc" must neither throw nor become NaN; the other fields survive.
s = validSample({ ...good, load: { "1m": "abc" } });
assert.strictEqual(s.load, null);
assert.ok(Math.abs(s.busy - 20) < 1e-9);
assert.deepStrictEqual(s.threads, { running: 2, total: 300 });

// Every field of the wrong type or out of range is missing, never invented.
const bad = [
  [{ load: { "1m": NaN } }, "load"], [{ load: { "1m": -1 } }, "load"],
  [{ load: { "1m": "0.5" } }, "load"], [{ load: "x" }, "load"], [{ load: null }, "load"],
  [{ load: { "1m": Infinity } }, "load"], [{ load: { "1m": true } }, "load"],
  [{ cpu: { utilisation: { idle: "0.5" } } }, "busy"], [{ cpu: { utilisation: { idle: 2 } } }, "busy"],
  [{ cpu: { utilisation: { idle: 0.5, iowait: "x" } } }, "busy"], [{ cpu: "x" }, "busy"],
  [{ cpu: { utilisation: null } }, "busy"], [{ threads: { running: "2", total: 3 } }, "threads"],
  [{ threads: { running: 2 } }, "threads"], [{ threads: 7 }, "threads"],
  [{ uptime_seconds: "1h" }, "uptime"], [{ uptime_seconds: -5 }, "uptime"],
  [{ time: 12 }, "time"],
];
for (const [patch, field] of bad) {
  const v = validSample({ ...good, ...patch });
  assert.ok(v, JSON.stringify(patch));
  assert.strictEqual(v[field], null, JSON.stringify(patch) + " -> " + v[field]);
}

// Not a sample at all: ignored.
for (const doc of [null, 42, "n1", [], {}, { node: 7 }, { node: "" }]) {
  assert.strictEqual(validSample(doc), null, JSON.stringify(doc));
}

// A node name cannot carry control characters into the page.
assert.strictEqual(validSample({ node: "n1\u001b[2J\r\u0085" }).node,
                   "n1\\u001b[2J\\u000d\\u0085");
assert.strictEqual(printable("a\u0000b\u007f"), "a\\u0000b\\u007f");
assert.strictEqual(formatUptime(null), "\u2013");
assert.strictEqual(formatUptime(3725.5), "1h 2m 5s");
// Root filesystem use and network rates (the agent with --rootfs and the netdev source).
const withDevices = {
  ...good,
  filesystems: [{ mountpoint: "/boot", size_bytes: 100, free_bytes: 100, avail_bytes: 100 },
                { mountpoint: "/", size_bytes: 1050, free_bytes: 300, avail_bytes: 250 }],
  network_devices: [{ receive_bytes_per_second: 1500, transmit_bytes_per_second: 20 },
                    { receive_bytes_per_second: 500, transmit_bytes_per_second: 5 }],
};
s = validSample(withDevices);
assert.strictEqual(s.rootUsed, 75);
assert.deepStrictEqual(s.network, { rx: 2000, tx: 25 });
assert.strictEqual(validSample(good).rootUsed, null);
assert.strictEqual(validSample(good).network, null);
for (const fs of [[{ mountpoint: "/", size_bytes: 0, free_bytes: 0, avail_bytes: 0 }],
                  [{ mountpoint: "/", size_bytes: 10, free_bytes: 10, avail_bytes: 11 }],
                  [{ mountpoint: "/", size_bytes: 10, free_bytes: 11, avail_bytes: 1 }],
                  [{ mountpoint: "/", size_bytes: 10, avail_bytes: 1 }],
                  [{ mountpoint: "/", size_bytes: null, avail_bytes: null, error: "hung" }],
                  [{ mountpoint: "/", size_bytes: "10", avail_bytes: 1 }], "x", [null]]) {
  assert.strictEqual(validSample({ ...good, filesystems: fs }).rootUsed, null, JSON.stringify(fs));
}
// The first sample has no rates yet; a device with a bad rate makes the sum unknown.
for (const nd of [[{ receive_bytes_per_second: null, transmit_bytes_per_second: null }],
                  [{ receive_bytes_per_second: -1, transmit_bytes_per_second: 1 }], [], [7]]) {
  assert.strictEqual(validSample({ ...good, network_devices: nd }).network, null,
                     JSON.stringify(nd));
}
assert.strictEqual(formatRate(null), "\u2013");
assert.strictEqual(formatRate(999), "999 B/s");
assert.strictEqual(formatRate(1536), "1.5 KB/s");
assert.strictEqual(formatRate(2.5e9), "2.5 GB/s");
console.log("kiada.js: all checks passed");
