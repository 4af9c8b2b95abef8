#!/usr/bin/env python3
"""gentable.py writes commands/table_gen.go: the metadata rows of every
command of every personality vdr answers as (arity, flags, key positions,
key specs, ACL categories, tips, docs), taken from each running server's
own COMMAND INFO and COMMAND DOCS replies so that COMMAND answers as that
server does.

Representation: one list of distinct rows. A command whose row is the same
in several versions (the same info and docs) is written once, with the set
of versions that have it (in: inRedis72 | inValkey72 | ...); a command that
changed gets one row per variant. Subcommands are rows of their own
("client|no-touch"); table.go assembles each version's table at init. The
five tables together are about 2x one table instead of 5x (Redis 7.2
rewrote most docs summaries; 7.2, 7.4 and Valkey share nearly everything
else), and what differs between versions is data: which versions a row is
in.

Usage (from commands/; see gen/regen.sh, which also captures):
  python3 gen/gentable.py CAPDIR > table_gen.go
where CAPDIR/<personality>/cmdinfo.json and cmddocs.json are
`redis-cli --json COMMAND INFO` and `... COMMAND DOCS` (gen/capture.sh).

Which handler serves each row is NOT decided here: table.go binds handlers by
name (see handlers in table.go), so regenerating never loses code.
"""
import json, os, sys

# Personalities in the order of the In bits (commands/table.go inRedis70 ...).
VERSIONS = [('7.0', 'inRedis70', 'redis-server 7.0.15'),
            ('7.2', 'inRedis72', 'redis-server 7.2.6'),
            ('7.4', 'inRedis74', 'redis-server 7.4.1'),
            ('valkey-7.2', 'inValkey72', 'valkey-server 7.2.7'),
            ('valkey-8.0', 'inValkey80', 'valkey-server 8.0.1')]

FLAGS = ['write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript',
         'blocking', 'loading', 'stale', 'skip_monitor', 'skip_slowlog', 'asking',
         'fast', 'no_auth', 'may_replicate', 'no_mandatory_keys', 'no_async_loading',
         'no_multi', 'movablekeys', 'allow_busy']

def goflag(f):
    return 'Cmd' + ''.join(p.capitalize() for p in f.split('_'))

def q(s):
    return json.dumps(s)

def strs(l):
    return '[]string{' + ', '.join(q(x) for x in l) + '}'

def keyspec(ks):
    b = ks['begin_search']; f = ks['find_keys']
    out = ['Flags: ' + strs(ks['flags'])]
    if ks.get('notes'):
        out.append('Notes: ' + q(ks['notes']))
    if b['type'] == 'index':
        out.append('BS: bsIndex, BSIndex: %d' % b['spec']['index'])
    elif b['type'] == 'keyword':
        out.append('BS: bsKeyword, BSKeyword: %s, BSStartFrom: %d' % (q(b['spec']['keyword']), b['spec']['startfrom']))
    else:
        out.append('BS: bsUnknown')
    if f['type'] == 'range':
        s = f['spec']
        out.append('FK: fkRange, LastKey: %d, KeyStep: %d, Limit: %d' % (s['lastkey'], s['keystep'], s['limit']))
    elif f['type'] == 'keynum':
        s = f['spec']
        out.append('FK: fkKeynum, KeyNumIdx: %d, FirstKey: %d, KeyStep: %d' % (s['keynumidx'], s['firstkey'], s['keystep']))
    else:
        out.append('FK: fkUnknown')
    return '{' + ', '.join(out) + '}'

def row(c, d, mask):
    """row renders one command (or subcommand) row, without subcommands."""
    name, arity, flags, first, last, step, acl, tips, kss = c[:9]
    fl = ' | '.join(goflag(f) for f in flags if f != 'movablekeys') or '0'
    parts = [
        'Name: %s' % q(name), 'Arity: %d' % arity, 'Flags: %s' % fl,
        'First: %d, Last: %d, Step: %d' % (first, last, step),
        'ACL: ' + strs(acl),
    ]
    if tips:
        parts.append('Tips: ' + strs(tips))
    if kss:
        parts.append('KeySpecs: []KeySpec{' + ', '.join(keyspec(k) for k in kss) + '}')
    doc = ['Summary: ' + q(d.get('summary', '')), 'Since: ' + q(d.get('since', '')),
           'Group: ' + q(d.get('group', '')), 'Complexity: ' + q(d.get('complexity', ''))]
    if d.get('doc_flags'):
        doc.append('DocFlags: ' + strs(d['doc_flags']))
    if d.get('deprecated_since'):
        doc.append('DeprecatedSince: ' + q(d['deprecated_since']))
    if d.get('replaced_by'):
        doc.append('ReplacedBy: ' + q(d['replaced_by']))
    if d.get('history'):
        doc.append('History: [][2]string{' + ', '.join('{%s, %s}' % (q(h[0]), q(h[1])) for h in d['history']) + '}')
    if d.get('arguments'):
        # Kept as JSON (key order = the server's reply order) and rendered
        # by writeDocArgs.
        doc.append('ArgsJSON: ' + q(json.dumps(d['arguments'], separators=(',', ':'))))
    parts.append('Doc: CommandDoc{' + ', '.join(doc) + '}')
    return ', '.join(parts)

def main():
    cap = sys.argv[1]
    variants = {}  # name -> {body: [version bit names]}
    counts = []
    for ver, bit, _ in VERSIONS:
        info = json.load(open(os.path.join(cap, ver, 'cmdinfo.json')))
        docs = json.load(open(os.path.join(cap, ver, 'cmddocs.json')))
        n = 0
        for c in info:
            d = docs.get(c[0], {})
            variants.setdefault(c[0], {}).setdefault(row(c, d, bit), []).append(bit)
            n += 1
            sd = d.get('subcommands', {})
            for s in c[9]:
                variants.setdefault(s[0], {}).setdefault(row(s, sd.get(s[0], {}), bit), []).append(bit)
        counts.append('%s %d' % (ver, n))
    print('// Code generated by gen/gentable.py from the COMMAND INFO and COMMAND DOCS of')
    print('// ' + ', '.join(v[2] for v in VERSIONS) + '; DO NOT EDIT.')
    print()
    print('package commands')
    print()
    print('// commandRows holds every distinct command and subcommand row of the')
    print('// personalities, sorted by name; In says which personalities have it.')
    print('// Commands per personality: ' + ', '.join(counts) + '.')
    print('var commandRows = []*Command{')
    order = {v[1]: i for i, v in enumerate(VERSIONS)}
    for name in sorted(variants):
        for body, bits in sorted(variants[name].items(), key=lambda kv: order[kv[1][0]]):
            print('\t{in: %s, %s},' % (' | '.join(bits), body))
    print('}')

main()
