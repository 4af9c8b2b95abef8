// Package pqsort is Redis's partial quicksort (src/pqsort.c): Bentley and
// McIlroy's quicksort ("Engineering a Sort Function", 1993) that only
// recurses into the parts overlapping the range of places wanted. Redis
// uses it for SORT … BY … LIMIT and GEOSEARCH … COUNT; it is not stable,
// so to give equal elements the order Redis gives them, vdr must make the
// same comparisons and swaps in the same order. That is this package's
// whole point: it does no more and no less than that algorithm.
package pqsort

// Interface is what Sort works on: Cmp(i, j) < 0, == 0 or > 0 as element
// i sorts before, with or after element j; Swap exchanges them.
type Interface interface {
	Len() int
	Cmp(i, j int) int
	Swap(i, j int)
}

// Sort puts the elements that belong at places lo..hi (inclusive) there,
// in order, exactly as Redis's pqsort(a, n, size, cmp, lo, hi) would.
func Sort(data Interface, lo, hi int) {
	sortRange(data, 0, data.Len(), lo, hi)
}

// med3 returns the median of three elements by index, with pqsort.c's
// comparison order.
func med3(d Interface, a, b, c int) int {
	if d.Cmp(a, b) < 0 {
		if d.Cmp(b, c) < 0 {
			return b
		}
		if d.Cmp(a, c) < 0 {
			return c
		}
		return a
	}
	if d.Cmp(b, c) > 0 {
		return b
	}
	if d.Cmp(a, c) < 0 {
		return a
	}
	return c
}

// vecswap exchanges the n elements from a with the n elements from b.
func vecswap(d Interface, a, b, n int) {
	for i := 0; i < n; i++ {
		d.Swap(a+i, b+i)
	}
}

// sortRange sorts the n elements starting at base, recursing only into
// parts that overlap the wanted places lo..hi.
func sortRange(d Interface, base, n, lo, hi int) {
	for {
		if n < 7 { // insertion sort
			for m := base + 1; m < base+n; m++ {
				for l := m; l > base && d.Cmp(l-1, l) > 0; l-- {
					d.Swap(l, l-1)
				}
			}
			return
		}
		pm := base + n/2
		if n > 7 {
			pl, pn := base, base+n-1
			if n > 40 {
				s := n / 8
				pl = med3(d, pl, pl+s, pl+2*s)
				pm = med3(d, pm-s, pm, pm+s)
				pn = med3(d, pn-2*s, pn-s, pn)
			}
			pm = med3(d, pl, pm, pn)
		}
		d.Swap(base, pm) // the pivot now sits at base
		pa, pb := base+1, base+1
		pc, pd := base+n-1, base+n-1
		for {
			for pb <= pc {
				c := d.Cmp(pb, base)
				if c > 0 {
					break
				}
				if c == 0 {
					d.Swap(pa, pb)
					pa++
				}
				pb++
			}
			for pb <= pc {
				c := d.Cmp(pc, base)
				if c < 0 {
					break
				}
				if c == 0 {
					d.Swap(pc, pd)
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			d.Swap(pb, pc)
			pb++
			pc--
		}
		pn := base + n
		r := min(pa-base, pb-pa)
		vecswap(d, base, pb-r, r)
		r = min(pd-pc, pn-pd-1)
		vecswap(d, pb, pn-r, r)
		if r = pb - pa; r > 1 {
			if overlaps(base, base+r-1, lo, hi) {
				sortRange(d, base, r, lo, hi)
			}
		}
		r = pd - pc
		if r <= 1 {
			return
		}
		base, n = pn-r, r // the right part: iterate instead of recursing
		if !overlaps(base, base+r-1, lo, hi) {
			return
		}
	}
}

// overlaps reports whether places l..r meet the wanted places lo..hi.
func overlaps(l, r, lo, hi int) bool { return !(hi < l || lo > r) }
