package projection

import "fmt"

// ---- hash field TTL commands (Redis 7.4 / 8.0, src/t_hash.c) ----
//
// On the link (replication-stream.md §3.6) HEXPIRE/HPEXPIRE/HEXPIREAT
// arrive as HPEXPIREAT with the fields actually updated, HGETEX as
// HPEXPIREAT/HPERSIST/HDEL, HGETDEL as HDEL, and HSETEX with its time
// rewritten to PXAT. A replica never expires fields: a time already past
// is stored like any other (checkAlreadyExpired is false on a replica)
// and reads hide the field.

// hfeMaxAbsTimeMsec is HFE_MAX_ABS_TIME_MSEC (EB_EXPIRE_TIME_MAX >> 2).
const hfeMaxAbsTimeMsec = 0x0000FFFFFFFFFFFF >> 2

// Expire conditions (ExpireSetCond in src/t_hash.c).
const (
	hfeNone = iota
	hfeNX   // HFE_NX: only fields without a TTL
	hfeXX   // HFE_XX: only fields with a TTL
	hfeGT   // HFE_GT: only a later TTL (a field without one never qualifies)
	hfeLT   // HFE_LT: only an earlier TTL (no TTL counts as infinite)
)

// parseFields reads "FIELDS n f…" at argv[at:], with step arguments per
// field (1 for names, 2 for field value pairs), and returns the first
// field's index.
func parseFields(argv [][]byte, at, step int) (int, error) {
	if at+1 >= len(argv) || !eq(argv[at], "fields") {
		return 0, fmt.Errorf("Mandatory argument FIELDS is missing or not at the right position: %w", ErrSyntax)
	}
	n, err := parseInt(argv[at+1])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("Parameter `numFields` should be greater than 0: %w", ErrSyntax)
	}
	if int64(len(argv)-at-2) != n*int64(step) {
		return 0, fmt.Errorf("The `numfields` parameter must match the number of arguments: %w", ErrSyntax)
	}
	return at + 2, nil
}

// hpexpireatCommand: HPEXPIREAT key ms [NX|XX|GT|LT] FIELDS n field…
// (hexpireGenericCommand, hashTypeSetExpiryListpack / HT).
func hpexpireatCommand(c *ctx) error {
	if err := c.arity(6, true); err != nil {
		return err
	}
	at, err := parseInt(c.argv[2])
	if err != nil {
		return err
	}
	if at < 0 || at > hfeMaxAbsTimeMsec {
		return fmt.Errorf("invalid expire time: %w", ErrSyntax)
	}
	if at == 0 {
		// 0 is "no TTL" inside a listpackex; a primary sends HDEL instead.
		return fmt.Errorf("HPEXPIREAT 0: %w", ErrUnsupported)
	}
	cond, pos := hfeNone, 3
	switch a := c.argv[3]; {
	case eq(a, "nx"):
		cond = hfeNX
	case eq(a, "xx"):
		cond = hfeXX
	case eq(a, "gt"):
		cond = hfeGT
	case eq(a, "lt"):
		cond = hfeLT
	}
	if cond != hfeNone {
		pos++
	}
	first, err := parseFields(c.argv, pos, 1)
	if err != nil {
		return err
	}
	h, err := c.hashFor(c.argv[1], false)
	if err != nil || h == nil {
		return err
	}
	if h.lp() {
		h.ensureTTL() // hashTypeSetExInit converts a listpack to listpackex
	}
	for _, f := range c.argv[first:] {
		if !h.has(f) {
			continue // HSETEX_NO_FIELD
		}
		prev := h.fieldTTL(f)
		if prev == 0 {
			if cond == hfeXX || cond == hfeGT {
				continue
			}
		} else if cond == hfeNX || (cond == hfeGT && prev >= at) || (cond == hfeLT && prev <= at) {
			continue
		}
		h.setTTL(f, at)
	}
	return nil
}

// hpersistCommand: HPERSIST key FIELDS n field…. A field whose TTL has
// already passed by the replica's clock is treated as missing and keeps
// it (hpersistCommand: "Already expired. Pretend there is no such field").
func hpersistCommand(c *ctx) error {
	if err := c.arity(5, true); err != nil {
		return err
	}
	first, err := parseFields(c.argv, 2, 1)
	if err != nil {
		return err
	}
	h, err := c.hashFor(c.argv[1], false)
	if err != nil || h == nil || h.tl() == nil {
		return err
	}
	for _, f := range c.argv[first:] {
		t := h.fieldTTL(f)
		if t == 0 || t < c.nowMs() {
			continue
		}
		h.setTTL(f, 0)
	}
	return nil
}

// hsetexCommand: HSETEX key [FNX|FXX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
// FIELDS n field value… (Redis 8.0). A primary rewrites EX/PX/EXAT to
// PXAT; a relative time would depend on the replica's clock, so EX and PX
// are not applied (ErrUnsupported). FNX/FXX must hold here since the
// primary propagated the command; if not, the copy has diverged.
func hsetexCommand(c *ctx) error {
	if err := c.arity(6, true); err != nil {
		return err
	}
	var fnx, fxx, keep, withTTL bool
	var at int64
	pos := 2
	for ; pos < len(c.argv) && !eq(c.argv[pos], "fields"); pos++ {
		a := c.argv[pos]
		switch {
		case eq(a, "fnx") && !fxx:
			fnx = true
		case eq(a, "fxx") && !fnx:
			fxx = true
		case eq(a, "keepttl") && !withTTL:
			keep = true
		case (eq(a, "exat") || eq(a, "pxat")) && !keep && !withTTL && pos+1 < len(c.argv):
			t, err := parseInt(c.argv[pos+1])
			if err != nil {
				return err
			}
			if eq(a, "exat") {
				if t > hfeMaxAbsTimeMsec/1000 {
					return fmt.Errorf("invalid expire time: %w", ErrSyntax)
				}
				t *= 1000
			}
			if t <= 0 || t > hfeMaxAbsTimeMsec {
				return fmt.Errorf("invalid expire time: %w", ErrSyntax)
			}
			at, withTTL = t, true
			pos++
		case eq(a, "ex") || eq(a, "px"):
			return fmt.Errorf("HSETEX with a relative time: %w", ErrUnsupported)
		default:
			return ErrSyntax
		}
	}
	first, err := parseFields(c.argv, pos, 2)
	if err != nil {
		return err
	}
	h, err := c.hashFor(c.argv[1], false)
	if err != nil {
		return err
	}
	if fnx || fxx {
		for i := first; i < len(c.argv); i += 2 {
			var ok bool
			if h != nil {
				ok = h.has(c.argv[i])
			}
			if (fnx && ok) || (fxx && !ok) {
				return fmt.Errorf("HSETEX condition does not hold on the copy: %w", ErrSyntax)
			}
		}
	}
	if h == nil {
		h, _ = c.hashFor(c.argv[1], true)
	}
	if withTTL && h.lp() {
		h.ensureTTL()
	}
	tp := c.a.p.textPack()
	for i := first; i < len(c.argv); i += 2 {
		f, v := c.argv[i], c.argv[i+1]
		switch {
		case keep:
			h.setKeepTTL(f, v, c.ec, tp)
		case withTTL:
			h.setKeepTTL(f, v, c.ec, tp)
			h.setTTL(f, at)
		default:
			h.set(f, v, c.ec, tp)
		}
	}
	return nil
}
