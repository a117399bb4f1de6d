package rules

import (
	"encoding/json"
	"testing"
	"time"
)

func TestExpiry(t *testing.T) {
	t.Parallel()
	sec := func(tm time.Time) time.Time { return time.Unix(tm.Unix(), 0).UTC() }
	ms := func(tm time.Time) time.Time { return time.UnixMilli(tm.UnixMilli()).UTC() }
	pastMs, futureMs := past.Add(123*time.Millisecond), future.Add(456*time.Millisecond)
	tests := []struct {
		name   string
		claims string // JSON, besides the scope
		status Status
		exp    time.Time
	}{
		{"no expiry", `{}`, StatusNoExpiry, time.Time{}},
		{"exp past", `{"exp":` + itoa(int(past.Unix())) + `}`, StatusExpired, sec(past)},
		{"exp future", `{"exp":` + itoa(int(future.Unix())) + `}`, StatusActive, sec(future)},
		{"exp fractional", `{"exp":` + itoa(int(future.Unix())) + `.5}`, StatusActive, sec(future).Add(500 * time.Millisecond)},
		{"exp fractional past", `{"exp":` + itoa(int(past.Unix())) + `.25}`, StatusExpired, sec(past).Add(250 * time.Millisecond)},
		{"exp exactly now", `{"exp":` + itoa(int(now.Unix())) + `}`, StatusExpired, now},
		{"exp one second ahead", `{"exp":` + itoa(int(now.Unix())+1) + `}`, StatusActive, now.Add(time.Second)},
		{"exp as numeric string", `{"exp":"` + itoa(int(future.Unix())) + `"}`, StatusActive, sec(future)},
		{"expires_at seconds past", `{"expires_at":` + itoa(int(past.Unix())) + `}`, StatusExpired, sec(past)},
		{"expires_at seconds future", `{"expires_at":` + itoa(int(future.Unix())) + `}`, StatusActive, sec(future)},
		{"expires_at milliseconds past", `{"expires_at":` + itoa(int(pastMs.UnixMilli())) + `}`, StatusExpired, ms(pastMs)},
		{"expires_at milliseconds future", `{"expires_at":` + itoa(int(futureMs.UnixMilli())) + `}`, StatusActive, ms(futureMs)},
		{"expires_at RFC 3339 past", `{"expires_at":"` + past.Format(time.RFC3339) + `"}`, StatusExpired, past},
		{"expires_at RFC 3339 future", `{"expires_at":"` + future.Format(time.RFC3339) + `"}`, StatusActive, future},
		{"expires_at RFC 3339 with offset", `{"expires_at":"2030-01-01T09:00:00+09:00"}`, StatusActive, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"expires_at RFC 3339 nanoseconds", `{"expires_at":"2020-01-01T00:00:00.123456789Z"}`, StatusExpired, time.Date(2020, 1, 1, 0, 0, 0, 123456789, time.UTC)},
		{"expires_at milliseconds string", `{"expires_at":"` + itoa(int(futureMs.UnixMilli())) + `"}`, StatusActive, ms(futureMs)},
		{"expiresAt seconds past", `{"expiresAt":` + itoa(int(past.Unix())) + `}`, StatusExpired, sec(past)},
		{"expiresAt seconds future", `{"expiresAt":` + itoa(int(future.Unix())) + `}`, StatusActive, sec(future)},
		{"expiresAt milliseconds past", `{"expiresAt":` + itoa(int(pastMs.UnixMilli())) + `}`, StatusExpired, ms(pastMs)},
		{"expiresAt milliseconds future", `{"expiresAt":` + itoa(int(futureMs.UnixMilli())) + `}`, StatusActive, ms(futureMs)},
		{"expiresAt RFC 3339 past", `{"expiresAt":"` + past.Format(time.RFC3339) + `"}`, StatusExpired, past},
		{"expiresAt RFC 3339 future", `{"expiresAt":"` + future.Format(time.RFC3339) + `"}`, StatusActive, future},
		{"nested expires_at", `{"metadata":{"expires_at":` + itoa(int(past.Unix())) + `}}`, StatusExpired, sec(past)},
		{"nested expiresAt, deeper", `{"a":{"b":{"expiresAt":"` + future.Format(time.RFC3339) + `"}}}`, StatusActive, future},
		{"exp wins over expires_at", `{"exp":` + itoa(int(past.Unix())) + `,"expires_at":` + itoa(int(future.Unix())) + `}`, StatusExpired, sec(past)},
		{"unreadable exp, readable expires_at", `{"exp":"soon","expires_at":` + itoa(int(future.Unix())) + `}`, StatusActive, sec(future)},
		{"unparseable word", `{"exp":"soon"}`, StatusNoExpiry, time.Time{}},
		{"unparseable empty string", `{"expires_at":""}`, StatusNoExpiry, time.Time{}},
		{"unparseable date", `{"expires_at":"2025-13-45T00:00:00Z"}`, StatusNoExpiry, time.Time{}},
		{"unparseable NaN string", `{"expiresAt":"NaN"}`, StatusNoExpiry, time.Time{}},
		{"unparseable Inf string", `{"expiresAt":"+Inf"}`, StatusNoExpiry, time.Time{}},
		{"unparseable bool", `{"exp":true}`, StatusNoExpiry, time.Time{}},
		{"unparseable null", `{"exp":null}`, StatusNoExpiry, time.Time{}},
		{"unparseable object", `{"exp":{}}`, StatusNoExpiry, time.Time{}},
		{"unparseable array", `{"exp":[1700000000]}`, StatusNoExpiry, time.Time{}},
		{"zero", `{"exp":0}`, StatusNoExpiry, time.Time{}},
		{"negative", `{"exp":-5}`, StatusNoExpiry, time.Time{}},
		{"absurdly large", `{"exp":1e300}`, StatusNoExpiry, time.Time{}},
		{"never is not a claim name we read", `{"valid_until":` + itoa(int(past.Unix())) + `}`, StatusNoExpiry, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var claims map[string]any
			if err := json.Unmarshal([]byte(tt.claims), &claims); err != nil {
				t.Fatalf("test bug: %v", err)
			}
			exp, ok := ReadExpiry(claims)
			if ok != !tt.exp.IsZero() || !exp.Equal(tt.exp) {
				t.Errorf("ReadExpiry = %v, %v; want %v", exp, ok, tt.exp)
			}
			if got := StatusAt(exp, ok, now); got != tt.status {
				t.Errorf("StatusAt = %q, want %q", got, tt.status)
			}
			claims["scope"] = Scope
			tok := rawJWS(`{"alg":"HS256"}`, mustJSON(t, claims), fakeSig)
			d := new(doc).text("k: ").tok(tok)
			checkMatches(t, d, cfg.Find(d.buf), want{RuleAPIKey, tt.status, tt.exp})
		})
	}
}

// TestExpiryDeterministic: with two nested objects that disagree, the
// answer is the same every time (the first by key order), not whichever
// the map iteration met first.
func TestExpiryDeterministic(t *testing.T) {
	t.Parallel()
	var claims map[string]any
	j := `{"b":{"expires_at":` + itoa(int(future.Unix())) + `},"a":{"expires_at":` + itoa(int(past.Unix())) + `},` +
		`"c":{"expires_at":1},"d":{"expiresAt":2},"e":{"x":{"exp":3}}}`
	if err := json.Unmarshal([]byte(j), &claims); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		exp, ok := ReadExpiry(claims)
		if !ok || !exp.Equal(time.Unix(past.Unix(), 0)) {
			t.Fatalf("ReadExpiry = %v, %v; want %v (claim a)", exp, ok, past)
		}
	}
}

func TestStatusAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		exp    time.Time
		hasExp bool
		want   Status
	}{
		{time.Time{}, false, StatusNoExpiry},
		{future, false, StatusNoExpiry},
		{future, true, StatusActive},
		{past, true, StatusExpired},
		{now, true, StatusExpired},
	}
	for _, tt := range tests {
		if got := StatusAt(tt.exp, tt.hasExp, now); got != tt.want {
			t.Errorf("StatusAt(%v, %v) = %q, want %q", tt.exp, tt.hasExp, got, tt.want)
		}
	}
}

// TestConfigNowDefault: a zero Now means the wall clock.
func TestConfigNowDefault(t *testing.T) {
	t.Parallel()
	old := key(map[string]any{"exp": 1_000_000_000})   // 2001
	later := key(map[string]any{"exp": 4_000_000_000}) // 2096
	got := Config{}.Find([]byte(old + "\n" + later))
	if len(got) != 2 || got[0].Status != StatusExpired || got[1].Status != StatusActive {
		t.Fatalf("got %s", describe(got))
	}
}
