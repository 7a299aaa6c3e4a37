package metrics

import "time"

// DurationBuckets are the upper bounds, in seconds, of
// lagwise_request_duration_seconds's buckets: from 100 µs (a pipelined
// read on loopback) to 10 s (a blocking command, a slow backend). A
// duration past the last bound falls in the implicit +Inf bucket.
//
// The proxy counts each request in one bucket (BucketIndex) with
// len(DurationBuckets)+1 counters per class, the last for +Inf, and
// HistogramOf turns those counts into a Histogram at scrape time.
// Read-only: do not modify.
var DurationBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10,
}

// BucketIndex returns the index of the bucket a duration of seconds
// falls in: the first i with seconds ≤ DurationBuckets[i], or
// len(DurationBuckets) for the +Inf bucket (also for NaN). It does not
// allocate, takes no lock, and is safe for concurrent use: it is meant
// for the request path.
func BucketIndex(seconds float64) int {
	// A binary search: 16 bounds, 4 or 5 comparisons.
	lo, hi := 0, len(DurationBuckets)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if seconds <= DurationBuckets[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo // NaN compares false with every bound: +Inf
}

// BucketIndexDuration is BucketIndex for a time.Duration.
func BucketIndexDuration(d time.Duration) int { return BucketIndex(d.Seconds()) }

// Histogram is one class's request durations, as Snapshot carries them.
type Histogram struct {
	// Counts[i] is the number of requests that took at most
	// DurationBuckets[i] seconds (cumulative, as Prometheus counts
	// buckets); len(Counts) == len(DurationBuckets).
	Counts []uint64
	// Sum is the total of all durations, in seconds.
	Sum float64
	// Count is the number of requests, the +Inf bucket included.
	Count uint64
}

// HistogramOf builds a Histogram from per-bucket counts as the proxy
// keeps them: perBucket[i] requests fell in bucket i (BucketIndex), the
// last entry, at len(DurationBuckets), counting the +Inf bucket. A
// shorter slice counts as zeros past its end; entries past the +Inf
// bucket are ignored. sum is the total of the durations in seconds.
func HistogramOf(perBucket []uint64, sum float64) Histogram {
	h := Histogram{Counts: make([]uint64, len(DurationBuckets)), Sum: sum}
	var run uint64
	for i := 0; i <= len(DurationBuckets) && i < len(perBucket); i++ {
		run += perBucket[i]
		if i < len(DurationBuckets) {
			h.Counts[i] = run
		}
	}
	for i := len(perBucket); i < len(DurationBuckets); i++ {
		h.Counts[i] = run
	}
	h.Count = run
	return h
}
