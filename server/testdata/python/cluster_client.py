"""Reads keys through vdr with redis-py's RedisCluster; prints "OK redis-py".

Usage: cluster_client.py PORT WANT.json, where WANT.json maps each key to
the value the primary holds. Every key is read with GET (each routed by
its slot), then all of them in a pipeline; any difference fails.
"""
import json
import sys

from redis.cluster import RedisCluster


def main():
    port, want_file = int(sys.argv[1]), sys.argv[2]
    with open(want_file) as f:
        want = json.load(f)
    rc = RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
    nodes = rc.get_nodes()
    if len(nodes) != 1 or nodes[0].port != port:
        sys.exit("FAIL nodes %r" % nodes)
    slots = rc.cluster_slots()
    if list(slots) != [(0, 16383)]:
        sys.exit("FAIL CLUSTER SLOTS %r" % slots)
    for k, v in want.items():
        got = rc.get(k)
        if got != v:
            sys.exit("FAIL GET %s: %r, want %r" % (k, got, v))
    pipe = rc.pipeline()
    keys = list(want)
    for k in keys:
        pipe.get(k)
    got = pipe.execute()
    for k, g in zip(keys, got):
        if g != want[k]:
            sys.exit("FAIL pipeline GET %s: %r, want %r" % (k, g, want[k]))
    if rc.get("no-such-key") is not None:
        sys.exit("FAIL GET of a missing key")
    print("OK redis-py %d keys" % len(want))
    rc.close()


main()
