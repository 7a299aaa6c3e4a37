package lagwise

import (
	"testing"

	"github.com/lagwise/lagwise/config"
)

// The embedded default parses, validates and warns of nothing.
func TestDefaultConfig(t *testing.T) {
	c, err := config.Parse(DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	if c.Master == "" || len(c.Replicas) == 0 {
		t.Errorf("the default has master %q and %d replicas; lagwise up needs both", c.Master, len(c.Replicas))
	}
}
