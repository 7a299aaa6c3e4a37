package replication

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	const id, id2 = "aaaa", "bbbb"
	backlog := NewBacklog(100, 1000)
	backlog.Write(make([]byte, 150)) // holds offsets 1051..1150
	h := History{ID: id, ID2: id2, Offset: 1150, SecondOffset: 1101}
	cases := []struct {
		name    string
		replid  string
		off     int64
		b       *Backlog
		partial bool
		reason  string
	}{
		{"a new replica asks for a full sync", "?", -1, backlog, false, ""},
		{"current ID, caught up: nothing to send", id, 1151, backlog, true, ""},
		{"current ID, first byte held", id, 1051, backlog, true, ""},
		{"current ID, one byte before the backlog", id, 1050, backlog, false, "lack of backlog"},
		{"current ID, past the end", id, 1152, backlog, false, "lack of backlog"},
		{"unknown ID", "cccc", 1100, backlog, false, "Replication ID mismatch"},
		{"previous ID up to second_repl_offset", id2, 1101, backlog, true, ""},
		{"previous ID past second_repl_offset", id2, 1102, backlog, false, "Requested offset for second ID"},
		{"no backlog", id, 1151, nil, false, "no backlog"},
	}
	for _, tc := range cases {
		d := Decide(tc.replid, tc.off, h, tc.b)
		if d.Partial != tc.partial || !strings.Contains(d.Reason, tc.reason) || (tc.reason == "" && d.Reason != "") {
			t.Errorf("%s: got %+v, want partial=%v reason~%q", tc.name, d, tc.partial, tc.reason)
		}
	}
}
