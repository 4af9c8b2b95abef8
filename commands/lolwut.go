package commands

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LOLWUT (src/lolwut.c, lolwut5.c, lolwut6.c of Redis 7.0).
//
// LOLWUT answers the version line. LOLWUT VERSION 5 draws Georg Nees's
// "Schotter" (squares that tilt and shift more in each lower row) with
// Braille characters, 2×4 pixels each; VERSION 6 draws a skyline in four
// ANSI grey levels. The layout — canvas sizes, argument limits, padding,
// the rows, the closing lines — is Redis's; the drawing is vdr's own.
// The random parts differ from Redis's (they are random there as well):
// Schotter's first row of squares has no tilt or shift in either, so a
// one-row drawing is the same byte for byte; the skyline is drawn with
// vdr's own buildings. (Redis places the squares in float arithmetic
// that vdr does not reproduce: past the first square, edges may fall a
// pixel apart from Redis's.)

func lolwutCommand(c *Ctx, args [][]byte) {
	version := c.Version().Number()
	which := version
	rest := args[1:]
	if len(args) >= 3 && equalFold(args[1], "version") {
		n, ok := c.intArg(args[2])
		if !ok {
			return
		}
		which = strconv.FormatUint(uint64(uint32(n)), 10) + ".0.0"
		rest = args[3:]
	}
	switch {
	case which[0] == '5' && which[1] == '.' && which[2] != '9',
		which[0] == '4' && which[1] == '.' && which[2] == '9':
		lolwut5(c, rest, version)
	case which[0] == '6' && which[1] == '.' && which[2] != '9',
		which[0] == '5' && which[1] == '.' && which[2] == '9':
		lolwut6(c, rest, version)
	default:
		c.W.Verbatim("Redis ver. "+version+"\n", "txt")
	}
}

// lolwutArgs parses up to len(def) integer arguments over defaults,
// each clamped to [1, limit[i]].
func lolwutArgs(c *Ctx, args [][]byte, def, limit []int64) ([]int64, bool) {
	out := append([]int64(nil), def...)
	for i := range out {
		if i < len(args) {
			n, ok := c.intArg(args[i])
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		out[i] = min(max(out[i], 1), limit[i])
	}
	return out, true
}

// canvas is a grid of pixels, 0…3 (lolwutCanvas).
type canvas struct {
	w, h int
	px   []byte
}

func newCanvas(w, h int) *canvas { return &canvas{w: w, h: h, px: make([]byte, w*h)} }

func (cv *canvas) set(x, y int, v byte) {
	if x >= 0 && y >= 0 && x < cv.w && y < cv.h {
		cv.px[y*cv.w+x] = v
	}
}

func (cv *canvas) get(x, y int) byte {
	if x >= 0 && y >= 0 && x < cv.w && y < cv.h {
		return cv.px[y*cv.w+x]
	}
	return 0
}

// line draws from (x0,y0) to (x1,y1), both ends included (Bresenham).
func (cv *canvas) line(x0, y0, x1, y1 int, v byte) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		cv.set(x0, y0, v)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// square draws a square of side size centred at (cx,cy), turned by
// angle radians. Its corners lie on the circle through them, of radius
// size/√2 rounded to a whole pixel, at 45° + angle and every quarter
// turn on; each is rounded to the nearest pixel.
func (cv *canvas) square(cx, cy float64, size float64, angle float64) {
	r := math.Round(size / math.Sqrt2)
	var px, py [4]int
	for i := range 4 {
		sin, cos := math.Sincos(math.Pi/4 + angle + float64(i)*math.Pi/2)
		px[i] = int(math.Round(cx + sin*r))
		py[i] = int(math.Round(cy + cos*r))
	}
	for i := range 4 {
		j := (i + 1) % 4
		cv.line(px[i], py[i], px[j], py[j], 1)
	}
}

// braille renders the canvas 2×4 pixels to a character (U+2800 block).
func (cv *canvas) braille() string {
	var sb strings.Builder
	var buf [4]byte
	bits := [4][2]byte{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}
	for y := 0; y < cv.h; y += 4 {
		for x := 0; x < cv.w; x += 2 {
			var b byte
			for dy := range 4 {
				for dx := range 2 {
					if cv.get(x+dx, y+dy) != 0 {
						b |= bits[dy][dx]
					}
				}
			}
			n := utf8.EncodeRune(buf[:], rune(0x2800+int(b)))
			sb.Write(buf[:n])
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// lolwut5: LOLWUT VERSION 5 [cols [squares-per-row [squares-per-col]]].
func lolwut5(c *Ctx, args [][]byte, version string) {
	a, ok := lolwutArgs(c, args, []int64{66, 8, 12}, []int64{1000, 200, 200})
	if !ok {
		return
	}
	cols, perRow, perCol := int(a[0]), int(a[1]), int(a[2])
	width := cols * 2
	pad := 0
	if width > 4 {
		pad = 2
	}
	side := float64(width-pad*2) / float64(perRow)
	cv := newCanvas(width, int(side*float64(perCol)+float64(pad*2)))
	for y := range perCol {
		// Order gives way to chaos row by row: the first row is straight.
		chaos := float64(y) / float64(perCol)
		for x := range perRow {
			cx := float64(x)*side + side/2 + float64(pad)
			cy := float64(y)*side + side/2 + float64(pad)
			var angle float64
			if y > 0 {
				cx += (rand.Float64()*2 - 1) * chaos * side / 3
				cy += (rand.Float64()*2 - 1) * chaos * side / 3
				angle = (rand.Float64()*2 - 1) * chaos * math.Pi / 4
			}
			cv.square(cx, cy, side, angle)
		}
	}
	c.W.Verbatim(cv.braille()+"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "+version+"\n", "txt")
}

// lolwut6Colors are the ANSI cells of the four grey levels, darkest
// first (black, dark grey, grey, white).
var lolwut6Colors = [4]string{
	"\033[0;30;40m \033[0m",
	"\033[0;90;100m \033[0m",
	"\033[0;37;47m \033[0m",
	"\033[0;97;107m \033[0m",
}

// lolwut6: LOLWUT VERSION 6 [cols [rows]] — a skyline at dusk: a white
// sky, then three rows of buildings, the farthest grey and the nearest
// black, with lit windows.
func lolwut6(c *Ctx, args [][]byte, version string) {
	a, ok := lolwutArgs(c, args, []int64{80, 20}, []int64{1000, 1000})
	if !ok {
		return
	}
	w, h := int(a[0]), int(a[1])
	cv := newCanvas(w, h)
	for i := range cv.px {
		cv.px[i] = 3
	}
	for layer := range 3 {
		color := byte(2 - layer) // grey, dark grey, black
		minH, maxH := h/4+layer*h/8, h/2+layer*h/6
		for x := 0; x < w; {
			bw := 4 + rand.IntN(6)
			bh := minH + rand.IntN(max(maxH-minH, 1))
			if rand.IntN(4) == 0 {
				x += 1 + rand.IntN(3) // a gap between buildings
				continue
			}
			for bx := x; bx < x+bw && bx < w; bx++ {
				for by := h - bh; by < h; by++ {
					cv.set(bx, by, color)
					// windows on every other cell of the inner columns
					if layer > 0 && bx > x && bx < x+bw-1 && (by-(h-bh))%2 == 1 && (bx-x)%2 == 1 && rand.IntN(3) > 0 {
						cv.set(bx, by, color+1)
					}
				}
			}
			x += bw
		}
	}
	var sb strings.Builder
	for y := range h {
		for x := range w {
			sb.WriteString(lolwut6Colors[cv.get(x, y)])
		}
		sb.WriteByte('\n')
	}
	sb.WriteString("Dedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. " + version + "\n")
	c.W.Verbatim(sb.String(), "txt")
}
