package router

import "math"

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
// A pick leaves the sum of the scores as it was, so the pool's scores sum
// to zero: a backend's score is the picks it is owed (above zero) or has
// had beyond its share (below), in units of the pool's total weight.
// Reset keeps them so from one Eligibility to the next.
//
// A Picker belongs to one event loop; it is not safe for concurrent use.
// Picks do not allocate, nor does a Reset to a pool no larger than one p
// has had.
type Picker struct {
	e *Eligibility
	// weights are the pool's slots: replica i at i, the master last.
	// current are their running scores; a slot of weight 0 scores 0.
	// spare is as large as current: Reset fills it and swaps the two.
	weights []int
	current []int
	spare   []int
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

// Reset points p at a new Eligibility, as the monitor reports (every
// lag_poll_interval, so at a few reads a second there is one between any
// two reads). The schedule goes on:
//
//   - A replica keeps its score, found by address: the list may have been
//     reordered or edited by a reload. The master keeps its own.
//   - A replica new to the list, or out of the pool (weight 0: cut off,
//     weight 0 configured), starts at zero: one that comes back after
//     being cut off has kept neither a credit nor a debt from before.
//   - The scores are scaled by the new total weight over the old: a
//     backend owed a pick under the old weights is owed one under the new,
//     not a run of them when the weights fall (lags growing alike), and
//     weights that all fall or rise together leave the turns as they were.
//   - Then they are shifted to sum to zero again, as a removed or cut-off
//     replica takes its score with it.
//
// With an unchanged pool a Reset changes nothing. It keeps p's slices
// when they are large enough.
func (p *Picker) Reset(e *Eligibility) {
	old, prev, oldTotal := p.e, p.current, 0
	for _, w := range p.weights {
		oldTotal += w
	}
	n := len(e.Replicas) + 1
	var next []int
	if cap(p.weights) < n {
		p.weights, next, p.spare = make([]int, n), make([]int, n), make([]int, n)
	} else {
		p.weights, next, p.spare = p.weights[:n], p.spare[:n], prev
	}
	last := n - 1
	for i := range e.Replicas {
		w := e.Replicas[i].Effective
		p.weights[i], next[i] = w, 0
		if w > 0 {
			if j := old.index(e.Samples[i].Addr, i); j >= 0 {
				next[i] = prev[j]
			}
		}
	}
	p.weights[last], next[last] = e.Master, 0
	if e.Master > 0 && len(prev) > 0 {
		next[last] = prev[len(prev)-1]
	}
	p.e, p.current = e, next
	p.rebalance(oldTotal)
	p.pool = AllReplicas
	if e.Policy.ReadFrom == FromAny {
		p.pool |= MasterBit
	}
}

// rebalance scales the scores of the slots with weight by their total
// weight over oldTotal, then shifts them to sum to exactly zero.
func (p *Picker) rebalance(oldTotal int) {
	total, k := 0, 0
	for _, w := range p.weights {
		if w > 0 {
			total += w
			k++
		}
	}
	if k == 0 {
		return
	}
	sum := 0
	for i, w := range p.weights {
		if w == 0 {
			continue
		}
		if oldTotal > 0 && oldTotal != total {
			p.current[i] = int(math.Round(float64(p.current[i]) * float64(total) / float64(oldTotal)))
		}
		sum += p.current[i]
	}
	q, r := sum/k, sum%k
	for i, w := range p.weights {
		if w == 0 {
			continue
		}
		p.current[i] -= q
		switch {
		case r > 0:
			p.current[i]--
			r--
		case r < 0:
			p.current[i]++
			r++
		}
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
