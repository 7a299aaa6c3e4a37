package router

// Set is a set of backends of the read pool: bit i for replica i (i <
// MaxReplicas), the top bit for the master.
type Set uint64

// MasterBit is the master's member of a Set.
const MasterBit Set = 1 << 63

// AllReplicas holds every replica, and not the master.
const AllReplicas Set = ^MasterBit

// Has reports whether s holds backend i (a replica index, or Master).
func (s Set) Has(i int) bool {
	if i == Master {
		return s&MasterBit != 0
	}
	return i >= 0 && i < MaxReplicas && s&(1<<i) != 0
}

// With returns s with backend i (a replica index, or Master) added.
func (s Set) With(i int) Set {
	if i == Master {
		return s | MasterBit
	}
	if i < 0 || i >= MaxReplicas {
		return s
	}
	return s | 1<<i
}

// Picker spends an Eligibility's weights on the request path with smooth
// weighted round-robin, nginx's algorithm: every pick adds each
// candidate's weight to its running score, takes the highest score and
// takes the candidates' total weight off it. Over any run of picks each
// candidate's share follows its weight, and the picks interleave (weights
// 5, 1, 1 give a a b a c a a, not a a a a a b c).
//
// A Picker belongs to one event loop; it is not safe for concurrent use.
// Picks do not allocate.
type Picker struct {
	e *Eligibility
	// weights are the pool's slots: replica i at i, the master last.
	// current are their running scores.
	weights []int
	current []int
	// pool is the set the policy reads from: the replicas, and the
	// master with read_from any.
	pool Set
}

// NewPicker returns a Picker over e.
func NewPicker(e *Eligibility) *Picker {
	p := &Picker{}
	p.Reset(e)
	return p
}

// Reset points p at a new Eligibility, as the monitor reports. It keeps
// p's slices when they are large enough, and starts the running scores
// afresh: a new round of weights is a new schedule.
func (p *Picker) Reset(e *Eligibility) {
	n := len(e.Replicas) + 1
	if cap(p.weights) < n {
		p.weights, p.current = make([]int, n), make([]int, n)
	}
	p.e, p.weights, p.current = e, p.weights[:n], p.current[:n]
	for i, r := range e.Replicas {
		p.weights[i], p.current[i] = r.Effective, 0
	}
	p.weights[n-1], p.current[n-1] = e.Master, 0
	p.pool = AllReplicas
	if e.Policy.ReadFrom == FromAny {
		p.pool |= MasterBit
	}
}

// Eligibility returns the Eligibility p picks from.
func (p *Picker) Eligibility() *Eligibility { return p.e }

// Pick picks a backend of the pool by weight: a replica index, or Master
// with read_from any. ok is false when no backend in the pool has weight;
// then Eligibility.Fallback says what the read does (Read does it all).
func (p *Picker) Pick() (i int, ok bool) { return p.PickFrom(p.pool) }

// PickFrom is Pick among the backends of allowed only (those of the pool
// that a session may read from). The others' scores stand still.
func (p *Picker) PickFrom(allowed Set) (i int, ok bool) {
	allowed &= p.pool
	best, total := -1, 0
	last := len(p.weights) - 1
	for i, w := range p.weights {
		if w == 0 {
			continue
		}
		b := i
		if i == last {
			b = Master
		}
		if !allowed.Has(b) {
			continue
		}
		p.current[i] += w
		total += w
		if best < 0 || p.current[i] > p.current[best] {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	p.current[best] -= total
	if best == last {
		return Master, true
	}
	return best, true
}
