//go:build !amd64

package projection

// haveUnpack16: no vector unpacker here; the scalar loop does it all.
var haveUnpack16 = false

func unpack6Fast(dst, src []byte, codec int) (i, j int) { return 0, 0 }
