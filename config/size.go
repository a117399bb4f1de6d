package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes ParseSize accepts, lowercased. KB, MB and GB
// are powers of 1000 and KiB, MiB and GiB powers of 1024, as their names
// say: a cap written "1GB" should not quietly be 7% larger than asked.
var sizeUnits = map[string]int64{
	"b":   1,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
}

// ParseSize reads a byte count: a plain number of bytes ("1048576") or a
// whole number with a unit, B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024), in any case and with or without a space: "256MiB",
// "256 MiB", "1gib". It is the one parser for sizes in the config file and
// in flags, so both accept the same spellings.
//
// Negative, fractional and out-of-range sizes are errors; zero is not (the
// caller decides whether zero makes sense).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	switch {
	case strings.HasPrefix(t, "-"):
		return 0, fmt.Errorf("size %q is negative", s)
	case num == "":
		return 0, fmt.Errorf(`%q is not a size: want a number of bytes, or one with a unit as in "256MiB"`, s)
	case strings.HasPrefix(unit, "."):
		return 0, fmt.Errorf(`size %q is not a whole number: use a smaller unit ("1536MiB", not "1.5GiB")`, s)
	}
	mult := int64(1)
	if unit != "" {
		m, ok := sizeUnits[unit]
		if !ok {
			return 0, fmt.Errorf("size %q has an unknown unit: want B, KB, MB, GB, KiB, MiB or GiB", s)
		}
		mult = m
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}
