package router

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
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
	abc := Eligible([]Sample{at("a", 1, 0), at("b", 2, 0), at("c", 1, 0)}, policy(nil), nil)
	cba := Eligible([]Sample{at("c", 1, 0), at("b", 1, 100*ms), at("a", 2, 0)}, policy(nil), abc)
	if n := testing.AllocsPerRun(100, func() { p.Reset(abc); p.Pick(); p.Reset(cba); p.Pick() }); n != 0 {
		t.Errorf("Reset to a reordered pool of the same size: %v allocations, want 0", n)
	}
}

// The monitor reports every lag_poll_interval and each report resets the
// pickers: at a few reads a second, every read follows a Reset. The
// schedule must go on across them.
func TestPickerResetKeepsSchedule(t *testing.T) {
	type step struct {
		samples []Sample
		picks   string // the picks wanted, a new Eligibility before each
	}
	cases := []struct {
		what  string
		p     Policy
		steps []step
	}{
		{"weights 1:1 - they alternate", policy(nil),
			[]step{{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "a b a b a b a b"}}},
		{"weights 3:1 - three to one over 8 picks", policy(nil),
			[]step{{[]Sample{at("a", 3, 0), at("b", 1, 0)}, "a a b a a a b a"}}},
		{"weights (5, 1, 1) - nginx's order, as without Reset", policy(nil),
			[]step{{[]Sample{at("a", 5, 0), at("b", 1, 0), at("c", 1, 0)}, "a a b a c a a a a b a c a a"}}},
		{"read_from any - the master keeps its turn", policy(func(p *Policy) { p.ReadFrom = FromAny }),
			[]step{{[]Sample{at("a", 1, 0)}, "a master a master"}}},
		{"lags that move by a millisecond at every poll - one read each in every two", policy(nil),
			[]step{
				{[]Sample{at("a", 1, 0), at("b", 1, ms)}, "a"}, {[]Sample{at("a", 1, ms), at("b", 1, 0)}, "b"},
				{[]Sample{at("a", 1, 0), at("b", 1, ms)}, "a"}, {[]Sample{at("a", 1, ms), at("b", 1, 0)}, "b"},
				// Even again: b, the heavier, goes first in the new round.
				{[]Sample{at("a", 1, 2*ms), at("b", 1, 0)}, "b"}, {[]Sample{at("a", 1, 0), at("b", 1, 3*ms)}, "a"},
			}},
		{"the list reordered at every poll - each replica keeps its turn", policy(nil),
			[]step{
				{[]Sample{at("a", 2, 0), at("b", 1, 0)}, "a"}, {[]Sample{at("b", 1, 0), at("a", 2, 0)}, "b"},
				{[]Sample{at("a", 2, 0), at("b", 1, 0)}, "a"}, {[]Sample{at("b", 1, 0), at("a", 2, 0)}, "a"},
				{[]Sample{at("a", 2, 0), at("b", 1, 0)}, "b"}, {[]Sample{at("b", 1, 0), at("a", 2, 0)}, "a"},
			}},
		{"a replica added - the others keep their turns, the new one joins at once", policy(nil),
			[]step{
				{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "a"},
				{[]Sample{at("a", 1, 0), at("b", 1, 0), at("c", 1, 0)}, "b c a b c a"},
			}},
		{"a replica removed - the others keep their turns", policy(nil),
			[]step{
				{[]Sample{at("a", 1, 0), at("b", 1, 0), at("c", 1, 0)}, "a b"},
				{[]Sample{at("b", 1, 0), at("c", 1, 0)}, "c b c b"},
			}},
		{"a replica cut off for long - back at the others' level, with neither a run of picks nor a wait", policy(nil),
			[]step{
				{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "a"},
				{[]Sample{at("a", 1, 0), at("b", 1, 600*ms)}, "a a a a a a a a"},
				{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "a b a b"},
			}},
		{"weights changed - the new weights hold at once", policy(nil),
			[]step{
				{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "a"},
				{[]Sample{at("a", 3, 0), at("b", 1, 0)}, "b a a a b a a a"},
			}},
		{"every weight a tenth of what it was (lags near max_lag) - turns kept, no run of picks", policy(nil),
			[]step{
				{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "a"},
				{[]Sample{at("a", 1, 450*ms), at("b", 1, 450*ms)}, "b a b a b a"},
				{[]Sample{at("a", 1, 0), at("b", 1, 0)}, "b a b a"},
			}},
	}
	for _, tc := range cases {
		var p *Picker
		var e *Eligibility
		var got, want []string
		for _, st := range tc.steps {
			for _, w := range strings.Fields(st.picks) {
				e = Eligible(st.samples, tc.p, e)
				if p == nil {
					p = NewPicker(e)
				} else {
					p.Reset(e)
				}
				i, ok := p.Pick()
				if !ok {
					t.Fatalf("%s: no pick", tc.what)
				}
				got, want = append(got, name(e, i)), append(want, w)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: picks %v, want %v", tc.what, got, want)
		}
	}
}

// Reset to a pool that has not changed changes nothing: the picks are the
// ones a Picker never reset makes, whatever the weights and the sets a
// session may read from.
func TestPickerResetUnchangedPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var samples []Sample
		for i := range 1 + rng.IntN(8) {
			samples = append(samples, at(string(rune('a'+i)), 1+rng.IntN(9), time.Duration(rng.IntN(500))*ms))
		}
		pol := policy(nil)
		if round%3 == 0 {
			pol.ReadFrom, pol.MasterWeight = FromAny, rng.IntN(4)
		}
		steady := NewPicker(Eligible(samples, pol, nil))
		var reset *Picker
		var e *Eligibility
		for n := range 100 {
			allowed := steady.pool
			if n%4 == 3 {
				allowed = Set(rng.Uint64())
			}
			e = Eligible(samples, pol, e)
			if reset == nil {
				reset = NewPicker(e)
			} else {
				reset.Reset(e)
			}
			i, ok := steady.PickFrom(allowed)
			j, ok2 := reset.PickFrom(allowed)
			if i != j || ok != ok2 {
				t.Fatalf("weights %v, pick %d: %d, %v after Reset; %d, %v without", steady.weights, n, j, ok2, i, ok)
			}
		}
	}
}

// Whatever the views - replicas added, removed, reordered, cut off and
// back, weights jumping, sessions picking from a few replicas only - the
// scores of the pool sum to zero, a slot with no weight scores zero, and
// no score strays far from the turns the weights give: within twice the
// total weight (smooth WRR's own scores reach about 1.7 times it with some
// weights).
func TestPickerScoresStayBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var names []string
	for i := range 20 {
		names = append(names, string(rune('a'+i)))
	}
	var p *Picker
	var e *Eligibility
	check := func(when string) {
		t.Helper()
		total, sum := 0, 0
		for i, w := range p.weights {
			total, sum = total+w, sum+p.current[i]
			if w == 0 && p.current[i] != 0 {
				t.Fatalf("%s: slot %d has weight 0 and score %d", when, i, p.current[i])
			}
		}
		if sum != 0 {
			t.Fatalf("%s: scores %v sum to %d", when, p.current, sum)
		}
		for i, c := range p.current {
			if c > 2*total || c < -2*total {
				t.Fatalf("%s: slot %d scores %d; weights %v, total %d", when, i, c, p.weights, total)
			}
		}
	}
	for step := range 20000 {
		var samples []Sample
		for _, i := range rng.Perm(len(names))[:len(names)-rng.IntN(4)] {
			lag := time.Duration(rng.IntN(5)) * ms
			if rng.IntN(3) == 0 {
				lag = time.Duration(rng.IntN(700)) * ms
			}
			s := at(names[i], 1<<rng.IntN(11)-1, lag)
			if rng.IntN(20) == 0 {
				s = unknown(names[i], 1, NoAnswer)
			}
			samples = append(samples, s)
		}
		pol := policy(nil)
		if rng.IntN(4) == 0 {
			pol.ReadFrom, pol.MasterWeight = FromAny, rng.IntN(4)
		}
		e = Eligible(samples, pol, e)
		if p == nil {
			p = NewPicker(e)
		} else {
			p.Reset(e)
		}
		check(fmt.Sprintf("step %d, after Reset", step))
		allowed := Set(rng.Uint64())
		for range rng.IntN(40) {
			if rng.IntN(3) > 0 {
				p.PickFrom(allowed)
			} else {
				p.Pick()
			}
		}
		check(fmt.Sprintf("step %d, after picks", step))
	}
}
