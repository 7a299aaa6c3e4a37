package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// scale maps data values d0..d1 onto pixels p0..p1 (p1 < p0 for a y axis,
// whose pixels grow downwards).
type scale struct {
	d0, d1 float64
	p0, p1 int
}

func (s scale) at(v float64) int {
	if s.d1 == s.d0 {
		return s.p0
	}
	return s.p0 + int(math.Round((v-s.d0)/(s.d1-s.d0)*float64(s.p1-s.p0)))
}

// ticks returns round values from lo to hi, about n of them.
func ticks(lo, hi float64, n int) []float64 {
	if hi <= lo || n < 1 {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// Series is one line of a panel; NaN values leave a gap.
type Series struct {
	Name  string
	Color color.RGBA
	X, Y  []float64
}

var (
	black    = color.RGBA{0, 0, 0, 255}
	grey     = color.RGBA{150, 150, 150, 255}
	light    = color.RGBA{230, 230, 230, 255}
	white    = color.RGBA{255, 255, 255, 255}
	gapGrey  = color.RGBA{200, 200, 200, 255}
	palette  = []color.RGBA{{214, 39, 40, 255}, {31, 119, 180, 255}, {44, 160, 44, 255}, {148, 103, 189, 255}}
	face     = basicfont.Face7x13
	lineSkip = 15
)

// text draws s with its baseline at y, starting at x; align -1 left, 0
// centred, 1 right.
func text(img draw.Image, x, y int, s string, c color.Color, align int) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face}
	w := d.MeasureString(s).Round()
	x -= (align + 1) * w / 2
	d.Dot = fixed.P(x, y)
	d.DrawString(s)
}

// line draws from (x0,y0) to (x1,y1), width pixels wide; dash > 0 draws
// dash pixels on, dash off.
func line(img draw.Image, x0, y0, x1, y1 int, c color.Color, width, dash int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for i := 0; ; i++ {
		if dash <= 0 || (i/dash)%2 == 0 {
			for a := 0; a < width; a++ {
				for b := 0; b < width; b++ {
					img.Set(x0+a-width/2, y0+b-width/2, c)
				}
			}
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// Panel is a plot area with its scales.
type Panel struct {
	R    image.Rectangle
	X, Y scale
}

func newPanel(r image.Rectangle, x0, x1, y0, y1 float64) Panel {
	return Panel{R: r, X: scale{x0, x1, r.Min.X, r.Max.X}, Y: scale{y0, y1, r.Max.Y, r.Min.Y}}
}

// axes draws the frame, grid lines and tick labels, the y ticks formatted
// with yfmt, and the panel's title above it.
func (p Panel) axes(img draw.Image, title string, xt, yt []float64, yfmt func(float64) string) {
	for _, v := range yt {
		y := p.Y.at(v)
		line(img, p.R.Min.X, y, p.R.Max.X, y, light, 1, 0)
		line(img, p.R.Min.X-4, y, p.R.Min.X, y, black, 1, 0)
		text(img, p.R.Min.X-7, y+4, yfmt(v), black, 1)
	}
	for _, v := range xt {
		x := p.X.at(v)
		line(img, x, p.R.Min.Y, x, p.R.Max.Y, light, 1, 0)
		line(img, x, p.R.Max.Y, x, p.R.Max.Y+4, black, 1, 0)
		text(img, x, p.R.Max.Y+17, trimFloat(v), black, 0)
	}
	line(img, p.R.Min.X, p.R.Min.Y, p.R.Max.X, p.R.Min.Y, black, 1, 0)
	line(img, p.R.Min.X, p.R.Max.Y, p.R.Max.X, p.R.Max.Y, black, 1, 0)
	line(img, p.R.Min.X, p.R.Min.Y, p.R.Min.X, p.R.Max.Y, black, 1, 0)
	line(img, p.R.Max.X, p.R.Min.Y, p.R.Max.X, p.R.Max.Y, black, 1, 0)
	text(img, p.R.Min.X, p.R.Min.Y-8, title, black, -1)
}

// polyline draws a series, clamped to the panel; NaN breaks the line.
func (p Panel) polyline(img draw.Image, s Series) {
	var prev *image.Point
	for i := range s.X {
		if math.IsNaN(s.Y[i]) {
			prev = nil
			continue
		}
		pt := image.Pt(p.X.at(s.X[i]), clamp(p.Y.at(s.Y[i]), p.R.Min.Y, p.R.Max.Y))
		if prev != nil {
			line(img, prev.X, prev.Y, pt.X, pt.Y, s.Color, 2, 0)
		}
		prev = &pt
	}
}

// vmark draws a dashed vertical line at x with a label at its top, ending
// just left of the line.
func (p Panel) vmark(img draw.Image, x float64, label string, c color.Color) {
	px := p.X.at(x)
	line(img, px, p.R.Min.Y, px, p.R.Max.Y, c, 1, 4)
	if label != "" {
		text(img, px-4, p.R.Min.Y+16, label, c, 1)
	}
}

// stacked fills, for each interval x0[i]..x1[i], one band per layer, bottom
// to top, layer[l][i] high (values summing to at most the y range); an
// interval whose layers are NaN is filled with gap.
func (p Panel) stacked(img draw.Image, x0, x1 []float64, layers [][]float64, colors []color.RGBA, gap color.RGBA) {
	for i := range x0 {
		a, b := p.X.at(x0[i]), p.X.at(x1[i])
		if math.IsNaN(layers[0][i]) {
			fill(img, image.Rect(a, p.R.Min.Y+1, b, p.R.Max.Y), gap)
			continue
		}
		base := p.Y.d0
		for l := range layers {
			top := base + layers[l][i]
			fill(img, image.Rect(a, p.Y.at(top), b, p.Y.at(base)), colors[l])
			base = top
		}
	}
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r.Canon(), image.NewUniform(c), image.Point{}, draw.Src)
}

// hmark draws a dashed horizontal line at y with a label at its right end.
func (p Panel) hmark(img draw.Image, y float64, label string, c color.Color) {
	py := p.Y.at(y)
	line(img, p.R.Min.X, py, p.R.Max.X, py, c, 1, 6)
	text(img, p.R.Max.X-4, py-4, label, c, 1)
}

// legend draws a colour box and a name per series, one a line, from (x, y).
func legend(img draw.Image, x, y int, series []Series) {
	for i, s := range series {
		yy := y + i*lineSkip
		draw.Draw(img, image.Rect(x, yy-9, x+18, yy-5), image.NewUniform(s.Color), image.Point{}, draw.Src)
		text(img, x+24, yy, s.Name, black, -1)
	}
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// Episode is what the figure shows.
type Episode struct {
	Title      string
	Points     []Point
	Replicas   []string // backend addresses, in legend order
	Names      map[string]string
	Backends   []string // every backend with reads, master first
	MaxLag     float64  // seconds
	StopAt     float64  // seconds from the start; <= 0: not marked
	ContAt     float64
	Duration   float64
	StoppedOne string // the address of the stopped replica
}

// lagCeiling is the top of the lag panel in ms: at least twice max_lag,
// and 10% above the highest finite lag seen, rounded up to a tick.
func lagCeiling(pts []Point, maxLag float64) float64 {
	top := 2 * maxLag * 1000
	for _, p := range pts {
		for _, v := range p.Lag {
			if !math.IsInf(v, 0) && !math.IsNaN(v) && v*1000*1.1 > top {
				top = v * 1000 * 1.1
			}
		}
	}
	// Up to the next tick, so that the axis ends on a labelled value.
	ts := ticks(0, top, 5)
	if len(ts) < 2 {
		return top
	}
	step := ts[1] - ts[0]
	return step * math.Ceil(top/step-1e-9)
}

// render draws the episode as a PNG: lag per replica on top, read share per
// backend below.
func render(w io.Writer, ep Episode) error {
	const W, H = 1000, 720
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	text(img, W/2, 22, ep.Title, black, 0)

	colors := map[string]color.RGBA{}
	for i, b := range ep.Backends {
		colors[b] = palette[i%len(palette)]
	}
	for i, r := range ep.Replicas {
		if _, ok := colors[r]; !ok {
			colors[r] = palette[(len(ep.Backends)+i)%len(palette)]
		}
	}
	xt := ticks(0, ep.Duration, 10)

	// Lag panel.
	ceil := lagCeiling(ep.Points, ep.MaxLag)
	top := newPanel(image.Rect(80, 60, W-200, 370), 0, ep.Duration, 0, ceil)
	top.axes(img, "replication lag (ms), lagwise_replica_lag_seconds; at the top edge: unknown (+Inf)",
		xt, ticks(0, ceil, 5), trimFloat)
	var lagSeries []Series
	for _, r := range ep.Replicas {
		s := Series{Name: ep.Names[r], Color: colors[r]}
		for _, p := range ep.Points {
			v, ok := p.Lag[r]
			switch {
			case !ok:
				v = math.NaN()
			case math.IsInf(v, 1):
				v = ceil
			default:
				v *= 1000
			}
			s.X = append(s.X, p.T)
			s.Y = append(s.Y, v)
		}
		top.polyline(img, s)
		lagSeries = append(lagSeries, s)
	}
	top.hmark(img, ep.MaxLag*1000, fmt.Sprintf("max_lag %s ms", trimFloat(ep.MaxLag*1000)), black)
	text(img, top.R.Max.X+8, top.R.Min.Y+4, "unknown", grey, -1)

	// Share panel.
	bot := newPanel(image.Rect(80, 420, W-200, 660), 0, ep.Duration, 0, 100)
	var shareSeries []Series
	var x0, x1 []float64
	layers := make([][]float64, len(ep.Backends))
	var layerColors []color.RGBA
	for _, p := range ep.Points {
		x0, x1 = append(x0, p.T0), append(x1, p.T)
		for l, b := range ep.Backends {
			v := math.NaN()
			if p.Reads > 0 {
				v = 100 * p.Share[b]
			}
			layers[l] = append(layers[l], v)
		}
	}
	for _, b := range ep.Backends {
		layerColors = append(layerColors, colors[b])
		shareSeries = append(shareSeries, Series{Name: ep.Names[b], Color: colors[b]})
	}
	bot.stacked(img, x0, x1, layers, layerColors, gapGrey)
	bot.axes(img, "share of reads per backend (%, stacked), per 100 ms: deltas of lagwise_reads_total",
		xt, ticks(0, 100, 5), trimFloat)
	shareSeries = append(shareSeries, Series{Name: "no reads served", Color: gapGrey})
	text(img, (bot.R.Min.X+bot.R.Max.X)/2, H-22, "time (s)", black, 0)

	for _, p := range []Panel{top, bot} {
		if ep.StopAt > 0 {
			label := ""
			if p == top {
				label = "SIGSTOP " + ep.Names[ep.StoppedOne]
			}
			p.vmark(img, ep.StopAt, label, black)
		}
		if ep.ContAt > 0 {
			label := ""
			if p == top {
				label = "SIGCONT"
			}
			p.vmark(img, ep.ContAt, label, black)
		}
	}
	legend(img, top.R.Max.X+16, top.R.Min.Y+30, lagSeries)
	legend(img, bot.R.Max.X+16, bot.R.Min.Y+10, shareSeries)
	return png.Encode(w, img)
}
