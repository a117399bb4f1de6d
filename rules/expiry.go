package rules

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status says whether a key has expired by its own claims.
type Status string

// The statuses of a found token.
const (
	StatusActive   Status = "active"    // has an expiry in the future
	StatusExpired  Status = "expired"   // has an expiry in the past
	StatusNoExpiry Status = "no-expiry" // has no expiry claim: valid until revoked
)

// expiryClaims are the claim names read for the expiry, in order of
// preference: the registered JWT claim first, then Lofty's own setting.
var expiryClaims = []string{"exp", "expires_at", "expiresAt"}

// ReadExpiry returns the key's expiry and whether it has one. It reads exp
// (NumericDate seconds) and expires_at/expiresAt (seconds, milliseconds or
// RFC 3339) from the top level of the claims, then from nested objects. A
// value it cannot read counts as no expiry rather than as a guess.
func ReadExpiry(claims map[string]any) (time.Time, bool) {
	for _, name := range expiryClaims {
		if v, ok := claims[name]; ok {
			if t, ok := parseExpiry(v); ok {
				return t, true
			}
		}
	}
	return findNestedExpiry(claims, 0)
}

func findNestedExpiry(m map[string]any, depth int) (time.Time, bool) {
	if depth > maxDepth {
		return time.Time{}, false
	}
	// In key order: with two nested expiries, map order would make the
	// answer change from one run to the next.
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if sub, ok := m[k].(map[string]any); ok {
			for _, name := range expiryClaims {
				if t, ok := parseExpiry(sub[name]); ok {
					return t, true
				}
			}
			if t, ok := findNestedExpiry(sub, depth+1); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// msThreshold separates seconds from milliseconds: 1e11 seconds is the year
// 5138, 1e11 milliseconds is 1973.
const msThreshold = 1e11

func parseExpiry(v any) (time.Time, bool) {
	switch v := v.(type) {
	case float64:
		return fromNumber(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return fromNumber(f)
	case string:
		s := strings.TrimSpace(v)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return fromNumber(f)
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

func fromNumber(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 1e15 {
		return time.Time{}, false
	}
	if f >= msThreshold {
		return time.UnixMilli(int64(f)).UTC(), true
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// StatusAt returns the status of a key with the given expiry at time now.
func StatusAt(exp time.Time, hasExp bool, now time.Time) Status {
	switch {
	case !hasExp:
		return StatusNoExpiry
	case now.Before(exp):
		return StatusActive
	default:
		return StatusExpired
	}
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
