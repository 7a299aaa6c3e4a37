package router

import "testing"

// The request path must not allocate: Classify, Session.Route and
// Picker.Read run once per request.

func BenchmarkClassify(b *testing.B) {
	for _, bc := range []struct{ name, req string }{
		{"GET", "GET key:000001"},
		{"SET", "SET key:000001 value"},
		{"ZRANGEBYSCORE", "zrangebyscore z 0 1"},
		{"CONFIG_GET", "CONFIG GET save"},
		{"XREAD_BLOCK", "XREAD COUNT 10 BLOCK 0 STREAMS s $"},
	} {
		argv := args(bc.req)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Classify(argv)
			}
		})
	}
}

func BenchmarkSessionRoute(b *testing.B) {
	get, set := args("GET key:000001"), args("SET key:000001 value")
	var s Session
	b.ReportAllocs()
	for b.Loop() {
		s.Route(defaultClassifier, get)
		s.Route(defaultClassifier, set)
	}
}

func BenchmarkPick(b *testing.B) {
	e := Eligible([]Sample{at("a", 1, 0), at("b", 1, 100*ms), at("c", 2, 300*ms)}, DefaultPolicy(), nil)
	p := NewPicker(e)
	b.ReportAllocs()
	for b.Loop() {
		p.Pick()
	}
}

func BenchmarkRead(b *testing.B) {
	e := Eligible([]Sample{at("a", 1, 0), at("b", 1, 100*ms), at("c", 2, 300*ms)}, DefaultPolicy(), nil)
	p := NewPicker(e)
	for _, bc := range []struct {
		name string
		need Need
	}{
		{"no_write", Need{}},
		{"after_write", Need{Wrote: true, Known: true, Offset: 900}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Read(bc.need)
			}
		})
	}
}
