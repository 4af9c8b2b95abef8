package rdbparse

// lzfDecompress appends the LZF decompression of in to dst, which must
// produce exactly ulen bytes (see src/lzf_d.c for the format: a control
// byte below 32 starts a literal run of ctrl+1 bytes; otherwise the top
// three bits are a length (7 means "plus the next byte") and the rest with
// the next byte a backwards distance).
func lzfDecompress(dst, in []byte, ulen int) ([]byte, bool) {
	start := len(dst)
	dst = grow(dst, ulen)
	out := dst[start : start+ulen]
	op, ip := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			n := ctrl + 1
			if ip+n > len(in) || op+n > ulen {
				return dst[:start], false
			}
			copy(out[op:], in[ip:ip+n])
			op += n
			ip += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if ip >= len(in) {
				return dst[:start], false
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return dst[:start], false
		}
		ref := op - (ctrl&0x1f)<<8 - 1 - int(in[ip])
		ip++
		n += 2
		if ref < 0 || op+n > ulen {
			return dst[:start], false
		}
		if ref+n <= op {
			copy(out[op:op+n], out[ref:ref+n])
			op += n
		} else {
			for ; n > 0; n-- { // overlapping: byte by byte
				out[op] = out[ref]
				op++
				ref++
			}
		}
	}
	if op != ulen {
		return dst[:start], false
	}
	return dst[:start+ulen], true
}
