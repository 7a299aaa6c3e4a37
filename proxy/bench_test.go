package proxy

import (
	"strings"
	"testing"

	"github.com/lagwise/lagwise/config"
)

// BenchmarkHotPath is one client's GETs through the whole data path —
// parse, route, pick a replica, queue, flush, scan the reply, reorder,
// write — with the sockets stood in for. Pipeline depth 1 and 16, as
// redis-benchmark -P runs them. Goal: no allocation per request.
func BenchmarkHotPath(b *testing.B) {
	for _, depth := range []int{1, 16} {
		name := "P1"
		if depth == 16 {
			name = "P16"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, 2, func(c *config.Config) { c.Routing.ReadYourWrites = false })
			for _, fb := range h.backends {
				fb.canned = []byte("$64\r\n" + strings.Repeat("x", 64) + "\r\n")
			}
			c := h.connect()
			req := strings.Repeat("*2\r\n$3\r\nGET\r\n$16\r\nkey:000000012345\r\n", depth)
			h.send(c, req) // warm up: connections, buffers
			c.out = c.out[:0]
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += depth {
				c.in = append(c.in, req...)
				h.p.OnTraffic(c)
				h.settle()
				c.out = c.out[:0]
			}
		})
	}
}
