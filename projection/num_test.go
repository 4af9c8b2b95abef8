package projection

import (
	"errors"
	"math"
	"testing"
)

func TestParseFloat(t *testing.T) {
	f := func(in string, want float64, ok bool) {
		t.Helper()
		got, err := ParseFloat([]byte(in))
		if ok != (err == nil) || (ok && got != want && !(math.IsInf(want, 0) && got == want)) {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v ok=%v", in, got, err, want, ok)
		}
		if err != nil && !errors.Is(err, ErrNotFloat) {
			t.Errorf("ParseFloat(%q) error %v is not ErrNotFloat", in, err)
		}
	}
	f("1.5e1", 15, true)
	f("inf", math.Inf(1), true)
	f("+inf", math.Inf(1), true)
	f("-Infinity", math.Inf(-1), true)
	f("0x10", 16, true) // strtod hex without exponent
	f("0x1p3", 8, true)
	f("1e-320", 1e-320, true) // denormal: strtod accepts
	f("nan", 0, false)
	f("", 0, false)
	f(" 1", 0, false)
	f("1 ", 0, false)
	f("1e400", 0, false)
	f("1_000", 0, false)
}

func TestParseStrictInt(t *testing.T) {
	f := func(in string, want int64, ok bool) {
		t.Helper()
		got, gotOK := parseStrictInt([]byte(in))
		if gotOK != ok || got != want {
			t.Errorf("parseStrictInt(%q) = %d, %v; want %d, %v", in, got, gotOK, want, ok)
		}
	}
	f("0", 0, true)
	f("-9223372036854775808", math.MinInt64, true)
	f("9223372036854775807", math.MaxInt64, true)
	f("9223372036854775808", 0, false)
	f("-0", 0, false)
	f("01", 0, false)
	f("+1", 0, false)
	f(" 1", 0, false)
	f("", 0, false)
	f("-", 0, false)
}

func TestFormatScore(t *testing.T) {
	f := func(in float64, want string) {
		t.Helper()
		if got := FormatScore(in); got != want {
			t.Errorf("FormatScore(%v) = %q, want %q", in, got, want)
		}
	}
	// Redis 7.0 replies scores with "%.17g".
	f(1.5, "1.5")
	f(0.1, "0.10000000000000001")
	f(15, "15")
	f(1e21, "1e+21")
	f(1e-5, "1.0000000000000001e-05")
	f(math.Inf(-1), "-inf")
	f(math.Copysign(0, -1), "-0")
}

func TestLinkTransactions(t *testing.T) {
	p := newTestProjection(t, nil)
	lk := p.NewLink()
	// 7.2+ form: SELECT inside MULTI, and a db switch within the unit.
	for _, c := range []string{"MULTI", "SELECT 2", "SET a 1", "SELECT 3", "SET b 2", "EXEC", "SET c 3"} {
		if err := lk.Feed(args(c)); err != nil {
			t.Fatal(err)
		}
	}
	get(p, 2, "a", func(x Value) {
		if string(x.Bytes()) != "1" {
			t.Error("a not in db 2")
		}
	})
	get(p, 3, "b", func(x Value) {
		if string(x.Bytes()) != "2" {
			t.Error("b not in db 3")
		}
	})
	get(p, 3, "c", func(x Value) {
		if string(x.Bytes()) != "3" || lk.DB() != 3 {
			t.Error("c not in db 3")
		}
	})
	// Nothing in a MULTI is visible before EXEC.
	lk.Feed(args("MULTI"))
	lk.Feed(args("SET d 4"))
	if !lk.InMulti() {
		t.Error("not in MULTI")
	}
	get(p, 3, "d", func(x Value) {
		if x.Exists() {
			t.Error("queued command visible before EXEC")
		}
	})
	lk.Feed(args("EXEC"))
	get(p, 3, "d", func(x Value) {
		if !x.Exists() {
			t.Error("EXEC did not apply")
		}
	})
	if err := lk.Feed(args("SELECT 99")); !errors.Is(err, ErrDBIndex) {
		t.Errorf("SELECT 99: %v", err)
	}
}
