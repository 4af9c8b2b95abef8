package rdbparse

import "encoding/binary"

// The RDB checksum is CRC-64/Jones as in Redis's src/crc64.c: polynomial
// 0xad93d23594c935a9, reflected input and output, initial value 0, no final
// xor. Its check value, crc64(0, "123456789"), is 0xe9c6d914c4b8d9ca.
//
// The standard library's hash/crc64 fixes the initial value and final xor
// at all-ones and only has fast tables for ECMA and ISO, so this file
// keeps its own slicing-by-16 tables.

// crc64JonesReflected is 0xad93d23594c935a9 with its bits reversed.
const crc64JonesReflected = 0x95ac9329ac4bc9b5

var crc64Tables = func() (t [16][256]uint64) {
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ crc64JonesReflected
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 16; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()

// crc64Update extends crc with p.
func crc64Update(crc uint64, p []byte) uint64 {
	t := &crc64Tables
	for len(p) >= 16 {
		_ = p[15]
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[15][crc&0xff] ^ t[14][crc>>8&0xff] ^ t[13][crc>>16&0xff] ^ t[12][crc>>24&0xff] ^
			t[11][crc>>32&0xff] ^ t[10][crc>>40&0xff] ^ t[9][crc>>48&0xff] ^ t[8][crc>>56] ^
			t[7][p[8]] ^ t[6][p[9]] ^ t[5][p[10]] ^ t[4][p[11]] ^
			t[3][p[12]] ^ t[2][p[13]] ^ t[1][p[14]] ^ t[0][p[15]]
		p = p[16:]
	}
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}

// CRC64 returns Redis's CRC-64 of p (what RDB files and DUMP payloads end
// with).
func CRC64(p []byte) uint64 { return crc64Update(0, p) }
