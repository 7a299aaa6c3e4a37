// Package lagwise holds what the binary carries with it: the default
// config.yaml, which `lagwise up` runs when given no config. Only a file
// at the module root can embed config.yaml from the root.
package lagwise

import _ "embed"

// DefaultConfig is config.yaml at the repository root: a master, two
// replicas and the proxy in front of them, on 127.0.0.1.
//
//go:embed config.yaml
var DefaultConfig []byte
