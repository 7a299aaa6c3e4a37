package replication

import "testing"

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
