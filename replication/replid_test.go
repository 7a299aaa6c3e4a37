package replication

import "testing"

func TestNewReplID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewReplID()
		if len(id) != IDLen {
			t.Fatalf("%q: %d characters", id, len(id))
		}
		for _, c := range []byte(id) {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				t.Fatalf("%q: %q is not a lowercase hex digit", id, c)
			}
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}
