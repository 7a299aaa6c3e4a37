package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes, written in redis.conf's units.
type Size int64

// sizeUnits are redis.conf's units (Redis's memtoull), matched
// case-insensitively.
var sizeUnits = map[string]int64{
	"":   1,
	"b":  1,
	"k":  1000,
	"kb": 1024,
	"m":  1000 * 1000,
	"mb": 1024 * 1024,
	"g":  1000 * 1000 * 1000,
	"gb": 1024 * 1024 * 1024,
}

// ParseSize reads a size as Redis's memtoull does: digits, then an
// optional unit — b, k (1000), kb (1024), m (1000²), mb (1024²), g (1000³)
// or gb (1024³), in any letter case. No sign, no fraction, no space; the
// result must fit in an int64.
func ParseSize(s string) (Size, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits, unit := s[:i], strings.ToLower(s[i:])
	mul, ok := sizeUnits[unit]
	if digits == "" || !ok {
		return 0, fmt.Errorf("%q is not a size (write one such as 1gb, 64mb, 512kb or a number of bytes)", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n * mul), nil
}

// String writes the size in the largest binary unit that divides it
// exactly ("1gb", "64mb", "512kb"), else in bytes; ParseSize reads it
// back.
func (s Size) String() string {
	switch {
	case s != 0 && s%(1<<30) == 0:
		return strconv.FormatInt(int64(s>>30), 10) + "gb"
	case s != 0 && s%(1<<20) == 0:
		return strconv.FormatInt(int64(s>>20), 10) + "mb"
	case s != 0 && s%(1<<10) == 0:
		return strconv.FormatInt(int64(s>>10), 10) + "kb"
	}
	return strconv.FormatInt(int64(s), 10)
}
