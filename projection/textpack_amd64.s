#include "textflag.h"

// Constants of unpack6x16, one 16-byte vector each (see textpack_amd64.go).

// lane k of four takes packed bytes 3k+1, 3k, 3k+2, 3k+1
DATA unpackShuf<>+0(SB)/8, $0x0405030401020001
DATA unpackShuf<>+8(SB)/8, $0x0a0b090a07080607
GLOBL unpackShuf<>(SB), RODATA|NOPTR, $16

// the bits of the first and third characters of a lane, and the
// multipliers (high halves kept) that bring them down to bytes 0 and 2
DATA unpackMask1<>+0(SB)/8, $0x0fc0fc000fc0fc00
DATA unpackMask1<>+8(SB)/8, $0x0fc0fc000fc0fc00
GLOBL unpackMask1<>(SB), RODATA|NOPTR, $16
DATA unpackMul1<>+0(SB)/8, $0x0400004004000040
DATA unpackMul1<>+8(SB)/8, $0x0400004004000040
GLOBL unpackMul1<>(SB), RODATA|NOPTR, $16

// the bits of the second and fourth characters, and the multipliers (low
// halves kept) that bring them up to bytes 1 and 3
DATA unpackMask2<>+0(SB)/8, $0x003f03f0003f03f0
DATA unpackMask2<>+8(SB)/8, $0x003f03f0003f03f0
GLOBL unpackMask2<>(SB), RODATA|NOPTR, $16
DATA unpackMul2<>+0(SB)/8, $0x0100001001000010
DATA unpackMul2<>+8(SB)/8, $0x0100001001000010
GLOBL unpackMul2<>(SB), RODATA|NOPTR, $16

DATA unpack51<>+0(SB)/8, $0x3333333333333333
DATA unpack51<>+8(SB)/8, $0x3333333333333333
GLOBL unpack51<>(SB), RODATA|NOPTR, $16
DATA unpack26<>+0(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA unpack26<>+8(SB)/8, $0x1a1a1a1a1a1a1a1a
GLOBL unpack26<>(SB), RODATA|NOPTR, $16
DATA unpack13<>+0(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA unpack13<>+8(SB)/8, $0x0d0d0d0d0d0d0d0d
GLOBL unpack13<>(SB), RODATA|NOPTR, $16

// func unpack6x16(dst, src *byte, groups int, lut *[16]byte)
TEXT ·unpack6x16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ groups+16(FP), CX
	MOVQ lut+24(FP), AX
	MOVOU (AX), X8
	MOVOU unpackShuf<>(SB), X9
	MOVOU unpackMask1<>(SB), X10
	MOVOU unpackMul1<>(SB), X11
	MOVOU unpackMask2<>(SB), X12
	MOVOU unpackMul2<>(SB), X13
	MOVOU unpack51<>(SB), X14
	MOVOU unpack26<>(SB), X6
	MOVOU unpack13<>(SB), X5

loop:
	// 12 packed bytes (16 loaded) into four 32-bit lanes
	MOVOU (SI), X0
	PSHUFB X9, X0
	MOVO X0, X1
	PAND X10, X0
	PMULHUW X11, X0
	PAND X12, X1
	PMULLW X13, X1
	POR X1, X0 // sixteen 6-bit numbers, one a byte

	// their alphabet's ranges: 0 for 26–51, 1–12 for 52–63, 13 for 0–25
	MOVO X0, X2
	PSUBUSB X14, X2
	MOVO X6, X3
	PCMPGTB X0, X3
	PAND X5, X3
	POR X3, X2

	// each number plus its range's offset in lut
	MOVO X8, X4
	PSHUFB X2, X4
	PADDB X4, X0
	MOVOU X0, (DI)

	ADDQ $12, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  loop
	RET
