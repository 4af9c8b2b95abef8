package projection

import "golang.org/x/sys/cpu"

// unpack6x16 unpacks groups × 12 bytes of src, a 6-bit codec's payload,
// into groups × 16 characters at dst, sixteen at a time with SSSE3
// (textpack_amd64.s): the bytes are spread into 32-bit lanes, shifted
// into sixteen 6-bit numbers with two masked multiplications, and each
// number gets its range's offset in the alphabet (A–Z, a–z, 0–9, and
// the last two characters) from a 16-byte table, lut. It reads 16 bytes
// at src+12×(groups-1): the caller leaves 4 readable bytes past the
// last group.
//
//go:noescape
func unpack6x16(dst, src *byte, groups int, lut *[16]byte)

// haveUnpack16 says whether unpack6x16 may run (SSSE3).
var haveUnpack16 = cpu.X86.HasSSSE3

// unpackLUT[codec] is unpack6x16's table for a 6-bit codec: the offset
// to add to a number of each range, indexed by the range (0: a–z, 1–10:
// the digits, 11 and 12: the last two characters, 13: A–Z).
var unpackLUT [codec6Std + 1][16]byte

func init() {
	for _, codec := range []int{codec6URL, codec6Std} {
		a := codecAlphabet[codec]
		t := &unpackLUT[codec]
		minus := func(c byte, n int) byte { return c - byte(n) } // mod 256
		t[0] = minus('a', 26)
		for i := 1; i <= 10; i++ {
			t[i] = minus('0', 52)
		}
		t[11] = minus(a[62], 62)
		t[12] = minus(a[63], 63)
		t[13] = 'A'
	}
}

// unpack6Fast unpacks as many whole 12-byte groups of a 6-bit codec's
// payload src into dst as it can with unpack6x16, and returns how many
// packed bytes and characters it did.
func unpack6Fast(dst, src []byte, codec int) (i, j int) {
	if !haveUnpack16 {
		return 0, 0
	}
	g := min((len(src)-4)/12, len(dst)/16)
	if g <= 0 {
		return 0, 0
	}
	unpack6x16(&dst[0], &src[0], g, &unpackLUT[codec])
	return 12 * g, 16 * g
}
