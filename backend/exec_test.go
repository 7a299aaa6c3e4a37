package backend

import (
	"testing"

	"github.com/lagwise/lagwise/backend/command"
)

// The shared command table carries the mark for exactly the commands this
// server has handlers for.
func TestCommandTableMarksImplemented(t *testing.T) {
	s := New(DefaultConfig())
	marked := 0
	for _, c := range command.All() {
		if c.Implemented() != s.Implemented(c.Name) {
			t.Errorf("%s: table mark %v, server implements %v", c.Name, c.Implemented(), s.Implemented(c.Name))
		}
		if c.Implemented() {
			marked++
		}
		for name, sub := range c.Subcommands {
			if sub.Implemented() != s.Implemented(c.Name+"|"+name) {
				t.Errorf("%s|%s: table mark %v", c.Name, name, sub.Implemented())
			}
		}
	}
	if marked < 150 {
		t.Fatalf("only %d commands marked implemented", marked)
	}
	if command.Lookup("eval").Implemented() {
		t.Fatal("EVAL is marked implemented but the server has no scripting")
	}
}
