// Package keyslot maps keys to Redis Cluster hash slots: the CRC16 (XMODEM
// variant: polynomial 0x1021, initial value 0, no reflection) of the key's
// hash tag, or of the whole key when it has none, modulo 16384.
package keyslot

// Slots is the number of hash slots of a Redis Cluster.
const Slots = 16384

var table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return
}()

// CRC16 returns the XMODEM CRC of b.
func CRC16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c<<8 ^ table[byte(c>>8)^x]
	}
	return c
}

// Tag returns the part of key that decides its slot: the bytes between
// the first '{' and the first '}' after it when there are any, else the
// whole key (so "{}x" hashes whole, as in Redis).
func Tag(key []byte) []byte {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key
				}
				return key[i+1 : j]
			}
		}
		return key
	}
	return key
}

// Of returns key's hash slot, 0 to Slots-1.
func Of(key []byte) int { return int(CRC16(Tag(key)) & (Slots - 1)) }

// OfString is Of for a key held as a string.
func OfString(key string) int { return Of([]byte(key)) }
