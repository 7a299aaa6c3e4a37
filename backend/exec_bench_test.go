package backend

import (
	"strconv"
	"testing"
)

// Benchmarks of one command through the executor, without the network:
// lookup, arity, the handler, reply encoding and, when a sink is attached,
// the write stream. The hot path must not allocate.

// discardSink consumes the write stream, as an AOF or a replica would,
// without I/O.
type discardSink struct{ n int }

func (d *discardSink) feed(db int, cmd []byte) { d.n += len(cmd) }

func benchExec(b *testing.B, withSink bool, argv func(i int) [][]byte) {
	s := New(DefaultConfig())
	if withSink {
		s.addSink(&discardSink{})
	}
	c := s.newFakeClient()
	// Warm the keyspace so SET overwrites and GET hits.
	for i := range 1000 {
		c.argv = [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(i)), []byte("value")}
		s.processCommand(c)
	}
	args := make([][][]byte, 1000)
	for i := range args {
		args[i] = argv(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.argv = args[i%len(args)]
		s.processCommand(c)
		c.out = c.out[:0]
	}
}

func setArgv(i int) [][]byte {
	return [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(i)), []byte("0123456789012345678901234567890123456789012345678901234567890123")}
}

func setEXArgv(i int) [][]byte {
	return append(setArgv(i), []byte("EX"), []byte("100"))
}

func getArgv(i int) [][]byte { return [][]byte{[]byte("GET"), []byte("key:" + strconv.Itoa(i))} }

func BenchmarkExecSet(b *testing.B)             { benchExec(b, false, setArgv) }
func BenchmarkExecSetPropagated(b *testing.B)   { benchExec(b, true, setArgv) }
func BenchmarkExecSetEX(b *testing.B)           { benchExec(b, false, setEXArgv) }
func BenchmarkExecSetEXPropagated(b *testing.B) { benchExec(b, true, setEXArgv) }
func BenchmarkExecGet(b *testing.B)             { benchExec(b, false, getArgv) }
func BenchmarkExecGetPropagated(b *testing.B)   { benchExec(b, true, getArgv) }
