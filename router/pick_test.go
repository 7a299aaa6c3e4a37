package router

import (
	"maps"
	"testing"
	"time"
)

// name returns a pick's backend as the tests name it: the replica's
// address, or "master".
func name(e *Eligibility, i int) string {
	if i == Master {
		return "master"
	}
	return e.Samples[i].Addr
}

func TestPickSequence(t *testing.T) {
	cases := []struct {
		what    string
		p       Policy
		samples []Sample
		want    []string
	}{
		{"weights (5, 1, 1) interleave as nginx's do", policy(nil),
			[]Sample{at("a", 5, 0), at("b", 1, 0), at("c", 1, 0)},
			[]string{"a", "a", "b", "a", "c", "a", "a", "a", "a", "b", "a", "c", "a", "a"}},
		{"equal weights alternate", policy(nil),
			[]Sample{at("a", 1, 0), at("b", 1, 0)},
			[]string{"a", "b", "a", "b"}},
		{"lags (0, 250ms) - the lagging replica gets one read in three", policy(nil),
			[]Sample{at("a", 1, 0), at("b", 1, 250*ms)},
			[]string{"a", "b", "a", "a", "b", "a"}},
		{"a cut-off replica gets nothing", policy(nil),
			[]Sample{at("a", 1, 0), at("b", 1, time.Second)},
			[]string{"a", "a", "a"}},
		{"read_from any - the master takes its share", policy(func(p *Policy) { p.ReadFrom, p.MasterWeight = FromAny, 1 }),
			[]Sample{at("a", 1, 0)},
			[]string{"a", "master", "a", "master"}},
		{"read_from any, every replica cut off - the master alone", policy(func(p *Policy) { p.ReadFrom = FromAny }),
			[]Sample{unknown("a", 1, NoAnswer)},
			[]string{"master", "master"}},
	}
	for _, tc := range cases {
		e := Eligible(tc.samples, tc.p, nil)
		p := NewPicker(e)
		var got []string
		for range tc.want {
			i, ok := p.Pick()
			if !ok {
				t.Fatalf("%s: no pick", tc.what)
			}
			got = append(got, name(e, i))
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: picks %v, want %v", tc.what, got, tc.want)
				break
			}
		}
	}
}

func TestPickShares(t *testing.T) {
	cases := []struct {
		what    string
		p       Policy
		samples []Sample
		want    map[string]int // picks out of 6000
	}{
		{"weights (3, 2, 1)", policy(nil),
			[]Sample{at("a", 3, 0), at("b", 2, 0), at("c", 1, 0)},
			map[string]int{"a": 3000, "b": 2000, "c": 1000}},
		{"equal weights, lags (0, 100ms, 400ms) - shares 1 : 0.8 : 0.2", policy(nil),
			[]Sample{at("a", 1, 0), at("b", 1, 100*ms), at("c", 1, 400*ms)},
			map[string]int{"a": 3000, "b": 2400, "c": 600}},
		{"read_from any with master_weight 1 and two replicas - a third each", policy(func(p *Policy) { p.ReadFrom = FromAny }),
			[]Sample{at("a", 1, 0), at("b", 1, 0)},
			map[string]int{"a": 2000, "b": 2000, "master": 2000}},
		{"read_from any with master_weight 0 - replicas only", policy(func(p *Policy) { p.ReadFrom, p.MasterWeight = FromAny, 0 }),
			[]Sample{at("a", 1, 0), at("b", 1, 0)},
			map[string]int{"a": 3000, "b": 3000}},
	}
	for _, tc := range cases {
		e := Eligible(tc.samples, tc.p, nil)
		p := NewPicker(e)
		got := map[string]int{}
		for range 6000 {
			i, ok := p.Pick()
			if !ok {
				t.Fatalf("%s: no pick", tc.what)
			}
			got[name(e, i)]++
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: shares %v, want %v", tc.what, got, tc.want)
		}
	}
}

func TestPickNone(t *testing.T) {
	cases := []struct {
		what    string
		p       Policy
		samples []Sample
	}{
		{"no replicas", policy(nil), nil},
		{"every replica past max_lag", policy(nil), []Sample{at("a", 1, time.Second), at("b", 1, time.Minute)}},
		{"every replica's lag unknown", policy(nil), []Sample{unknown("a", 1, LinkDown)}},
		{"every replica with weight 0", policy(nil), []Sample{at("a", 0, 0)}},
		{"read_from any with master_weight 0 and no replica", policy(func(p *Policy) { p.ReadFrom, p.MasterWeight = FromAny, 0 }), []Sample{at("a", 1, time.Second)}},
	}
	for _, tc := range cases {
		p := NewPicker(Eligible(tc.samples, tc.p, nil))
		if i, ok := p.Pick(); ok {
			t.Errorf("%s: Pick() = %d, true; want no pick", tc.what, i)
		}
	}
}

func TestPickFrom(t *testing.T) {
	e := Eligible([]Sample{at("a", 1, 0), at("b", 1, 0), at("c", 1, 0)}, policy(func(p *Policy) { p.ReadFrom = FromAny }), nil)
	cases := []struct {
		what    string
		allowed Set
		want    map[string]int // picks out of 6
	}{
		{"one replica allowed", Set(0).With(1), map[string]int{"b": 6}},
		{"two replicas allowed", Set(0).With(0).With(2), map[string]int{"a": 3, "c": 3}},
		{"the master and a replica", Set(0).With(Master).With(2), map[string]int{"master": 3, "c": 3}},
		{"replicas only (a session's READFROM replicas)", AllReplicas, map[string]int{"a": 2, "b": 2, "c": 2}},
	}
	for _, tc := range cases {
		p := NewPicker(e)
		got := map[string]int{}
		for range 6 {
			i, ok := p.PickFrom(tc.allowed)
			if !ok {
				t.Fatalf("%s: no pick", tc.what)
			}
			got[name(e, i)]++
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: picks %v, want %v", tc.what, got, tc.want)
		}
	}
	if i, ok := NewPicker(e).PickFrom(0); ok {
		t.Errorf("nothing allowed: PickFrom = %d, true; want no pick", i)
	}
	// With read_from replicas the master is never in the pool.
	p := NewPicker(Eligible([]Sample{at("a", 1, 0)}, policy(nil), nil))
	if i, ok := p.PickFrom(Set(0).With(Master)); ok {
		t.Errorf("read_from replicas, only the master allowed: PickFrom = %d, true; want no pick", i)
	}
}

func TestSet(t *testing.T) {
	s := Set(0).With(0).With(62).With(Master).With(63).With(-2)
	for _, tc := range []struct {
		i    int
		want bool
	}{{0, true}, {1, false}, {62, true}, {63, false}, {Master, true}, {-2, false}} {
		if s.Has(tc.i) != tc.want {
			t.Errorf("Has(%d) = %v, want %v", tc.i, !tc.want, tc.want)
		}
	}
	if AllReplicas.Has(Master) || !AllReplicas.Has(62) {
		t.Errorf("AllReplicas is wrong: %x", uint64(AllReplicas))
	}
}

func TestPickerReset(t *testing.T) {
	p := NewPicker(Eligible([]Sample{at("a", 1, 0), at("b", 1, 0), at("c", 1, 0)}, policy(nil), nil))
	p.Pick()
	e := Eligible([]Sample{at("x", 1, 0)}, policy(nil), nil)
	if n := testing.AllocsPerRun(10, func() { p.Reset(e) }); n != 0 {
		t.Errorf("Reset to a smaller pool: %v allocations, want 0", n)
	}
	if i, ok := p.Pick(); !ok || name(e, i) != "x" {
		t.Errorf("after Reset: Pick() = %d, %v; want x", i, ok)
	}
	if n := testing.AllocsPerRun(100, func() { p.Pick() }); n != 0 {
		t.Errorf("Pick: %v allocations, want 0", n)
	}
}
