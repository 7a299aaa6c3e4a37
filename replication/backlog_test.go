package replication

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// stream is the whole stream written so far, to check the backlog against.
func TestBacklogAgainstWholeStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 7, 64, 1000} {
		const start = 5000
		b := NewBacklog(size, start)
		var stream []byte
		for step := range 300 {
			p := make([]byte, rng.IntN(3*size/2+2))
			for i := range p {
				p[i] = byte(rng.IntN(256))
			}
			b.Write(p)
			stream = append(stream, p...)
			if step == 150 {
				size = size/2 + 1
				b.Resize(size)
			}
			if got := b.Offset(); got != start+int64(len(stream)) {
				t.Fatalf("offset %d, want %d", got, start+len(stream))
			}
			if b.HistLen() > int64(b.Size()) || b.HistLen() > int64(len(stream)) {
				t.Fatalf("histlen %d", b.HistLen())
			}
			for off := b.First() - 1; off <= b.Offset()+2; off++ {
				p1, p2, ok := b.From(off)
				wantOK := off >= b.First() && off <= b.Offset()+1
				if ok != wantOK {
					t.Fatalf("size %d From(%d) ok=%v, want %v (first %d, offset %d)", size, off, ok, wantOK, b.First(), b.Offset())
				}
				if ok {
					got := append(append([]byte{}, p1...), p2...)
					want := stream[off-start-1:]
					if !bytes.Equal(got, want) {
						t.Fatalf("size %d From(%d): %d bytes differ from the stream's %d", size, off, len(got), len(want))
					}
				}
			}
		}
	}
}

func TestBacklogEmpty(t *testing.T) {
	b := NewBacklog(16, 100)
	if b.First() != 101 || b.HistLen() != 0 {
		t.Fatalf("first %d histlen %d", b.First(), b.HistLen())
	}
	if p1, p2, ok := b.From(101); !ok || len(p1)+len(p2) != 0 {
		t.Fatal("From(offset+1) on an empty backlog")
	}
	if _, _, ok := b.From(100); ok {
		t.Fatal("From before the first byte")
	}
}
