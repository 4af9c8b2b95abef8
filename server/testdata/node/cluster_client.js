// Reads keys through vdr with ioredis's Cluster; prints "OK ioredis-cluster".
// Usage: node cluster_client.js PORT WANT.json, where WANT.json maps each
// key to the value the primary holds.
const Redis = require("ioredis");
const fs = require("fs");
const port = Number(process.argv[2]);
const want = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const fail = (m) => { console.error("FAIL", m); process.exit(1); };
const c = new Redis.Cluster([{ host: "127.0.0.1", port }], {
  scaleReads: "all", // READONLY on each connection, as for replicas
  enableReadyCheck: true,
  redisOptions: { maxRetriesPerRequest: 0 },
  clusterRetryStrategy: () => null,
});
(async () => {
  const keys = Object.keys(want);
  const got = await Promise.all(keys.map((k) => c.get(k)));
  keys.forEach((k, i) => { if (got[i] !== want[k]) fail(`GET ${k}: ${got[i]}, want ${want[k]}`); });
  for (const k of keys.slice(0, 50)) {
    const v = await c.get(k);
    if (v !== want[k]) fail(`GET ${k}: ${v}, want ${want[k]}`);
  }
  if ((await c.get("no-such-key")) !== null) fail("GET of a missing key");
  const nodes = c.nodes("all");
  if (nodes.length !== 1 || nodes[0].options.port !== port) fail("nodes: " + nodes.map((n) => n.options.port));
  const slots = await c.cluster("SLOTS");
  if (slots.length !== 1 || slots[0][0] !== 0 || slots[0][1] !== 16383) fail("CLUSTER SLOTS " + JSON.stringify(slots));
  console.log(`OK ioredis-cluster ${keys.length} keys`);
  c.disconnect();
})().catch((e) => fail(e && e.stack || e));
