package rdb

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestCRC64Vector(t *testing.T) {
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %016x, want e9c6d914c4b8d9ca", got)
	}
}

// crcBitwise is the textbook bit-at-a-time algorithm.
func crcBitwise(crc uint64, p []byte) uint64 {
	for _, b := range p {
		crc ^= uint64(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ crcPoly
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

func TestCRC64MatchesBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := make([]byte, rng.IntN(300))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		want := crcBitwise(0, p)
		if got := CRC64(0, p); got != want {
			t.Fatalf("len %d: %016x != %016x", len(p), got, want)
		}
		cut := rng.IntN(len(p) + 1)
		if got := CRC64(CRC64(0, p[:cut]), p[cut:]); got != want {
			t.Fatalf("piecewise at %d: %016x != %016x", cut, got, want)
		}
	}
}

func lzfRoundTrip(t testing.TB, c *lzfCompressor, in []byte) (compressed int) {
	out := make([]byte, len(in)+len(in)/32+16) // room for incompressible data
	n := c.compress(in, out)
	if n == 0 {
		if len(in) == 0 {
			return 0
		}
		t.Fatalf("compress of %d bytes failed with room to spare", len(in))
	}
	dec := make([]byte, len(in))
	if err := lzfDecompress(out[:n], dec); err != nil {
		t.Fatalf("decompress: %v", err)
	}
	if !bytes.Equal(dec, in) {
		t.Fatalf("round trip of %d bytes differs", len(in))
	}
	// A buffer one byte short of the result must be refused, not overrun.
	if n > 1 && c.compress(in, out[:n-1]) != 0 {
		t.Fatalf("compress into a short buffer succeeded")
	}
	return n
}

func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var c lzfCompressor
	sizes := []int{1, 2, 3, 4, 5, 20, 21, 32, 33, 64, 100, 263, 264, 265, 1000, 8191, 8192, 8193, 70000, 300000}
	for _, size := range sizes {
		random := make([]byte, size)
		for i := range random {
			random[i] = byte(rng.Uint32())
		}
		lzfRoundTrip(t, &c, random)
		zeros := make([]byte, size)
		if n := lzfRoundTrip(t, &c, zeros); size >= 100 && n > size/20 {
			t.Errorf("%d zeros compressed to %d bytes", size, n)
		}
		text := make([]byte, size)
		for i := range text {
			text[i] = "abcdefgh"[rng.IntN(8)]
		}
		lzfRoundTrip(t, &c, text)
		// Repeats at distances near the reference window.
		far := make([]byte, size)
		for i := range far {
			if i >= 8190 {
				far[i] = far[i-8190]
			} else {
				far[i] = byte(rng.Uint32())
			}
		}
		lzfRoundTrip(t, &c, far)
	}
}

// TestLZFDeterministic: the output depends on the input alone, not on what
// the compressor saw before.
func TestLZFDeterministic(t *testing.T) {
	in := bytes.Repeat([]byte("hello world, hello lzf; "), 50)
	var a, b lzfCompressor
	outA, outB := make([]byte, len(in)), make([]byte, len(in))
	b.compress(bytes.Repeat([]byte("hello"), 100), outB)
	na, nb := a.compress(in, outA), b.compress(in, outB)
	if !bytes.Equal(outA[:na], outB[:nb]) {
		t.Fatal("output depends on earlier inputs")
	}
}

// TestLZFKnownStream decodes a stream built by hand from the format:
// a literal run, then back references of short and long form.
func TestLZFKnownStream(t *testing.T) {
	in := []byte{
		2, 'a', 'b', 'c', // literal "abc"
		1 << 5, 2, // back ref: len 1+2=3, offset 2+1=3 -> "abc"
		7 << 5, 3, 0, // back ref: len 7+3+2=12, offset 1 -> "cccccccccccc"
		0, 'z', // literal "z"
	}
	out := make([]byte, 3+3+12+1)
	if err := lzfDecompress(in, out); err != nil {
		t.Fatal(err)
	}
	if string(out) != "abcabcccccccccccccz" {
		t.Fatalf("got %q", out)
	}
	for cut := range len(in) {
		if lzfDecompress(in[:cut], out) == nil {
			t.Fatalf("truncated stream of %d bytes accepted", cut)
		}
	}
	if lzfDecompress(in, make([]byte, len(out)+1)) == nil || lzfDecompress(in, out[:len(out)-1]) == nil {
		t.Fatal("wrong output length accepted")
	}
	if lzfDecompress([]byte{1 << 5, 0}, make([]byte, 3)) == nil {
		t.Fatal("reference before the start accepted")
	}
}
