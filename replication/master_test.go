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

type recordSender struct{ got []byte }

func (s *recordSender) Send(p []byte) { s.got = append(s.got, p...) }

// A replica waiting for its snapshot gets none of the stream: the writes
// before the cut are in the snapshot. From the cut (SendBulk) on it gets
// every byte.
func TestFeedSkipsReplicasWaitingForSnapshot(t *testing.T) {
	m := NewMaster(1 << 20)
	m.CreateBacklog()
	waiting, online := &recordSender{}, &recordSender{}
	m.Add(&Replica{Sender: waiting, State: WaitBgsave})
	m.Add(&Replica{Sender: online, State: Online})
	m.Feed(0, []byte("before"))
	if len(waiting.got) != 0 {
		t.Fatalf("a replica waiting for its snapshot got %q", waiting.got)
	}
	m.Replicas[0].State = SendBulk // the cut
	m.FeedRaw([]byte("after"))
	if string(waiting.got) != "after" {
		t.Fatalf("after the cut the replica got %q, want %q", waiting.got, "after")
	}
	if string(online.got) != "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\nbeforeafter" {
		t.Fatalf("an online replica got %q", online.got)
	}
}
