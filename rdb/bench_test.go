package rdb

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

const benchKeys = 1_000_000

// benchValues returns distinct 64-byte printable values.
func benchValues() [][]byte {
	rng := rand.New(rand.NewPCG(1, 1))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	vals := make([][]byte, 4096)
	for i := range vals {
		v := make([]byte, 64)
		for j := range v {
			v[j] = alphabet[rng.IntN(len(alphabet))]
		}
		vals[i] = v
	}
	return vals
}

func writeBenchFile(w io.Writer, opts WriterOptions, vals [][]byte) error {
	rw := NewWriter(w, opts)
	rw.Header()
	rw.Aux("redis-ver", "7.0.15")
	rw.SelectDB(0)
	rw.ResizeDB(benchKeys, 0)
	key := make([]byte, 0, 32)
	for i := range benchKeys {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		if err := rw.String(key, vals[i%len(vals)], -1); err != nil {
			return err
		}
	}
	return rw.Close()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite1M writes 1M keys of 64-byte strings; one op is the whole
// file, so allocs/op is per million keys.
func BenchmarkWrite1M(b *testing.B) {
	vals := benchValues()
	for _, c := range []struct {
		name string
		opts WriterOptions
	}{{"checksum", WriterOptions{Checksum: true}}, {"checksum+compress", WriterOptions{Checksum: true, Compress: true}}} {
		b.Run(c.name, func(b *testing.B) {
			var cw countWriter
			if err := writeBenchFile(&cw, c.opts, vals); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(cw.n)
			b.ReportAllocs()
			for b.Loop() {
				if err := writeBenchFile(io.Discard, c.opts, vals); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
		})
	}
}

// BenchmarkRead1M reads 1M keys of 64-byte strings, verifying the checksum.
func BenchmarkRead1M(b *testing.B) {
	var buf bytes.Buffer
	if err := writeBenchFile(&buf, WriterOptions{Checksum: true}, benchValues()); err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(file))
		n := 0
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := e.(Key); ok {
				n++
			}
		}
		if n != benchKeys {
			b.Fatalf("%d keys", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
}

func BenchmarkCRC64(b *testing.B) {
	p := make([]byte, 64<<10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		CRC64(0, p)
	}
}

func BenchmarkLZF(b *testing.B) {
	in := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog 0123456789 "), 1000)
	out := make([]byte, len(in))
	var c lzfCompressor
	n := c.compress(in, out)
	dec := make([]byte, len(in))
	b.Run("compress", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			c.compress(in, out)
		}
	})
	b.Run("decompress", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			lzfDecompress(out[:n], dec)
		}
	})
}
