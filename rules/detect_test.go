package rules

import (
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// TestFindMixed puts every kind of token in one file, with text and binary
// between them, and checks each is reported or not, where it is.
func TestFindMixed(t *testing.T) {
	t.Parallel()
	active := key(map[string]any{"sub": "agent-7", "exp": future.Unix()})
	expired := testtoken.Key("agent-8", past)
	gen := testtoken.Generic("anon")
	unconf := testtoken.Sign(map[string]any{"sub": 42, "expiresAt": future.Format(time.RFC3339)})

	d := new(doc).
		text("# config\r\nLOFTY_API_KEY=").tok(active).text("\r\n").
		text("SUPABASE_KEY=" + gen + "\r\n"). // generic, no context: not in spans
		text("\x00\x01\x02binary\xff\xfe").tok(expired).text("\x00").
		text("placeholder: eyJhbGciOiJIUzI1NiJ9...\n").
		text(`lofty_token: "`).tok(unconf).text("\"\n").
		text("Authorization: Bearer " + gen + "\n")
	got := cfg.Find(d.buf)
	checkMatches(t, d, got,
		want{RuleAPIKey, StatusActive, time.Unix(future.Unix(), 0).UTC()},
		want{RuleAPIKey, StatusExpired, time.Unix(past.Unix(), 0).UTC()},
		want{RuleUnconfirmed, StatusActive, future},
	)
	subs := []string{"agent-7", "agent-8", "42"}
	for i, m := range got {
		if m.Subject != subs[i] || m.Alg != "HS256" {
			t.Errorf("match %d: Subject %q Alg %q, want %q HS256", i, m.Subject, m.Alg, subs[i])
		}
	}
}

// With NoUnconfirmed, a token without the scope is not reported, even in
// a Lofty context or inside an encoding that gave it one; confirmed keys
// still are.
func TestNoUnconfirmed(t *testing.T) {
	t.Parallel()
	active := key(map[string]any{"sub": "agent-7", "exp": future.Unix()})
	unconf := testtoken.Sign(map[string]any{"sub": 42})
	buf := []byte("LOFTY_API_KEY=" + active + "\nlofty_token: " + unconf + "\n")
	c := cfg
	if got := c.Find(buf); len(got) != 2 {
		t.Fatalf("with the rule on: %d matches, want 2", len(got))
	}
	c.NoUnconfirmed = true
	got := c.Find(buf)
	if len(got) != 1 || got[0].Rule != RuleAPIKey || got[0].Token != active {
		t.Errorf("with the rule off: %+v, want only the confirmed key", got)
	}
	if got := c.FindWithContext([]byte(unconf), true); len(got) != 0 {
		t.Errorf("with the rule off, an unconfirmed token in an outer context: %+v", got)
	}
}

// TestJudge: Judge on one candidate agrees with Find.
func TestJudge(t *testing.T) {
	t.Parallel()
	gen := testtoken.Generic("u")
	buf := []byte("x " + gen + " lofty\n" + gen + "\n")
	cands := FindCandidates(buf)
	if len(cands) != 2 {
		t.Fatalf("%d candidates, want 2", len(cands))
	}
	var m Match
	if ok := cfg.judge(buf, tokenIn(buf, cands[0], nil), false, &m); !ok || m.Rule != RuleUnconfirmed {
		t.Errorf("first: %v %q, want unconfirmed", ok, m.Rule)
	}
	if ok := cfg.judge(buf, tokenIn(buf, cands[1], nil), false, &Match{}); ok {
		t.Error("second (no context) reported")
	}
	m = Match{}
	if ok := cfg.judge(buf, tokenIn(buf, cands[1], nil), true, &m); !ok || m.Rule != RuleUnconfirmed {
		t.Errorf("second with outer context: %v %q, want unconfirmed", ok, m.Rule)
	}
}
