package fpconv

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
)

func TestD2String(t *testing.T) {
	f := func(in float64, want string) {
		t.Helper()
		if got := string(AppendD2String(nil, in)); got != want {
			t.Errorf("d2string(%v) = %q, want %q", in, got, want)
		}
	}
	// Replies of redis-server 7.2.6 (ZADD k <score> m; ZSCORE k m).
	f(1.1, "1.1")
	f(0.1, "0.1")
	f(math.Copysign(0, -1), "-0")
	f(0, "0")
	f(math.Inf(1), "inf")
	f(math.Inf(-1), "-inf")
	f(math.NaN(), "nan")
	f(5, "5")
	f(-3, "-3")
	f(1e20, "1e+20")
	f(1.5e-7, "1.5e-7")
	f(0.000123, "0.000123")
	f(123456789.125, "123456789.125")
	f(4611686018427387904, "4611686018427387904")
	f(1e19, "1e+19")
	f(1e300, "1e+300")
	f(-1.7976931348623157e308, "-1.7976931348623157e+308")
	f(5e-324, "5e-324")
	f(1.0/3, "0.3333333333333333")
}

// TestAgainstRedis72 formats random doubles and compares with what a real
// Redis 7.2 replies for ZSCORE (RESP2), SEED= to repeat.
func TestAgainstRedis72(t *testing.T) {
	bin := redistest.VersionBinary(t, "redis-7.2.6")
	srv := redistest.StartBinary(t, bin)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	const n = 20000
	vals := make([]float64, n)
	var sb strings.Builder
	for i := range vals {
		var d float64
		switch i % 5 {
		case 0:
			d = math.Float64frombits(r.Uint64())
		case 1:
			d = r.Float64() * math.Pow(10, float64(r.IntN(40)-20))
		case 2:
			d = float64(r.IntN(100000)) / 100
		case 3:
			d = r.NormFloat64() * 1e17
		default:
			d = float64(r.Int64()) * (1 + r.Float64())
		}
		if math.IsNaN(d) {
			d = 1.5
		}
		if r.IntN(2) == 0 {
			d = -d
		}
		vals[i] = d
		s := strconv.FormatFloat(d, 'g', -1, 64)
		fmt.Fprintf(&sb, "*4\r\n$4\r\nZADD\r\n$1\r\nk\r\n$%d\r\n%s\r\n$%d\r\n%d\r\n", len(s), s, len(strconv.Itoa(i)), i)
		fmt.Fprintf(&sb, "*3\r\n$6\r\nZSCORE\r\n$1\r\nk\r\n$%d\r\n%d\r\n", len(strconv.Itoa(i)), i)
	}
	go nc.Write([]byte(sb.String()))
	bad := 0
	for i := range vals {
		if _, err := br.ReadString('\n'); err != nil { // ZADD
			t.Fatal(err)
		}
		if _, err := br.ReadString('\n'); err != nil { // $len
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(line, "\r\n")
		if got := string(AppendD2String(nil, vals[i])); got != want && bad < 20 {
			bad++
			t.Errorf("%v (%016x): got %q, redis %q", vals[i], math.Float64bits(vals[i]), got, want)
		}
	}
}

// TestRoundTrip checks that every formatted double reads back as itself
// (Grisu2's guarantee), over random bit patterns.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		d := math.Float64frombits(r.Uint64())
		if math.IsNaN(d) || math.IsInf(d, 0) {
			continue
		}
		s := string(AppendD2String(nil, d))
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != d {
			t.Fatalf("%v (%016x) formats as %q, which reads back as %v (%v)", d, math.Float64bits(d), s, back, err)
		}
	}
}
