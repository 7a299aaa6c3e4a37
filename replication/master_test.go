package replication

import (
	"testing"
	"time"
)

// TestGoodWholeSeconds: min-replicas-max-lag compares the lag in whole
// seconds, as Redis does and as INFO shows it: with a max lag of 2 s, a
// replica whose last ACK is 2.9 s old (lag=2) is still good, one whose
// ACK is 3 s old is not.
func TestGoodWholeSeconds(t *testing.T) {
	ack := time.Unix(1000, 0)
	m := NewMaster(1024)
	m.Add(&Replica{State: Online, AckTime: ack})
	m.Add(&Replica{State: SendBulk, AckTime: ack})
	for _, tc := range []struct {
		after time.Duration
		good  int
	}{
		{0, 1},
		{2 * time.Second, 1},
		{2900 * time.Millisecond, 1},
		{3 * time.Second, 0},
		{10 * time.Second, 0},
	} {
		if got := m.Good(ack.Add(tc.after), 2*time.Second); got != tc.good {
			t.Errorf("last ACK %v ago: Good = %d, want %d", tc.after, got, tc.good)
		}
	}
}
