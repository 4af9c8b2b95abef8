// Talks to vdr with ioredis and checks replies; prints "OK ioredis".
const Redis = require("ioredis");
const port = Number(process.argv[2]);
const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
(async () => {
  await r.connect();
  const fail = (m) => { console.error("FAIL", m); process.exit(1); };
  if ((await r.get("k")) !== "v") fail("GET");
  const h = await r.hgetall("h");
  if (h.f !== "1") fail("HGETALL " + JSON.stringify(h));
  try { await r.set("k", "x"); fail("SET succeeded"); } catch (e) {
    if (!String(e.message).startsWith("READONLY")) fail("SET error " + e.message);
  }
  const p = await r.pipeline().get("k").dbsize().exec();
  if (p[0][1] !== "v" || p[1][1] !== 2) fail("pipeline " + JSON.stringify(p));
  console.log("OK ioredis");
  r.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
