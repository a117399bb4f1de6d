package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/loftyscan/loftyscan/verify"
	"github.com/spf13/pflag"
)

// triageFlags decide, after a scan, which findings count: the ones already
// known (a baseline, .loftyscanignore, an inline loftyscan:allow) are
// suppressed, and --verify asks Lofty which keys are live.
type triageFlags struct {
	baseline          string
	ignoreFile        string // --ignore-file: a path, "none", or "" for .loftyscanignore
	noInlineAllow     bool
	showSuppressed    bool
	verify            bool
	verifyUnconfirmed bool
	verifyRate        int
	verifyTimeout     time.Duration
	flags             *pflag.FlagSet // to know which flags were given
}

// The ranges of the verification flags: past them a value is a slip (a
// rate of a million a minute is a denial of service of Lofty's API, a
// timeout of a day a hang).
const (
	maxVerifyRate    = 10_000
	maxVerifyTimeout = 10 * time.Minute
)

func (t *triageFlags) register(f *pflag.FlagSet) {
	t.flags = f
	f.StringVar(&t.baseline, "baseline", "", "do not report findings whose fingerprint is in `FILE`, a previous JSON report")
	f.StringVar(&t.ignoreFile, "ignore-file", "", "read accepted findings from `PATH` instead of .loftyscanignore; none reads none")
	f.BoolVar(&t.noInlineAllow, "no-inline-allow", false, "count findings on lines with a loftyscan:allow comment, as if it were not there")
	f.BoolVar(&t.showSuppressed, "show-suppressed", false, "list suppressed findings (baseline, .loftyscanignore, loftyscan:allow) too")
	f.BoolVar(&t.verify, "verify", false, "ask Lofty's API whether each key is live (sends each key to LOFTY_BASE_URL or https://api.lofty.com)")
	f.BoolVar(&t.verifyUnconfirmed, "verify-unconfirmed", false, "with --verify, also send tokens that lack the Lofty scope (they may be another service's secrets)")
	f.IntVar(&t.verifyRate, "verify-rate", verify.DefaultRequestsPerMinute, "at most `N` verification requests in any 60 seconds")
	f.DurationVar(&t.verifyTimeout, "verify-timeout", verify.DefaultTimeout, "time limit for each verification request")
}

func (t *triageFlags) validate() error {
	if t.verifyRate < 1 || t.verifyRate > maxVerifyRate {
		return &cliError{err: fmt.Errorf("--verify-rate %d is out of range", t.verifyRate), hint: fmt.Sprintf("use 1 to %d requests per minute; Lofty allows about 100", maxVerifyRate)}
	}
	if name := t.verifyFlagAlone(); name != "" {
		return &cliError{err: fmt.Errorf("--%s needs --verify: without it no key is sent to Lofty", name), hint: "add --verify to check keys with Lofty"}
	}
	if t.verifyTimeout <= 0 || t.verifyTimeout > maxVerifyTimeout {
		return &cliError{err: fmt.Errorf("--verify-timeout %s is out of range", t.verifyTimeout), hint: "use a duration such as 10s, up to " + maxVerifyTimeout.String()}
	}
	return nil
}

// verifyFlagAlone names a flag that sets how keys are verified, given
// without --verify (a slip: the person meant them verified), or "".
func (t *triageFlags) verifyFlagAlone() string {
	switch {
	case t.verify:
		return ""
	case t.verifyUnconfirmed:
		return "verify-unconfirmed"
	case t.flags == nil:
		return ""
	case t.flags.Changed("verify-rate"):
		return "verify-rate"
	case t.flags.Changed("verify-timeout"):
		return "verify-timeout"
	}
	return ""
}

// apply marks suppressed findings, verifies the rest when asked, counts
// them in stats (stats.Findings is what decides the exit code), and returns
// the findings to show. st holds the ignore list and baseline, read before
// the scan from where the scan's settings come from.
//
// An inline loftyscan:allow suppresses unless --no-inline-allow; in a scan
// of a change, the keys it suppresses are ones the change adds, so they
// are marked so and always shown: a reviewer sees what the change itself
// waves through.
func (t *triageFlags) apply(ctx context.Context, e env, findings []finding.Finding, stats *finding.Stats, st *settings) ([]finding.Finding, error) {
	for i := range findings {
		f := &findings[i]
		if f.Suppressed == finding.SuppressedInline {
			switch {
			case t.noInlineAllow:
				f.Suppressed = ""
			case st.inChange:
				f.Suppressed = finding.SuppressedInlineInChange
			}
		}
		if f.Suppressed != "" {
			continue
		}
		if reason, ok := st.ignore.Suppresses(f.Fingerprint, f.Path); ok {
			f.Suppressed = reason
		} else if st.baseline.Contains(f.Fingerprint) {
			f.Suppressed = "baseline " + st.baseName
		}
	}
	if t.verify {
		if err := t.verifyAll(ctx, e, findings); err != nil {
			return nil, err
		}
	}
	stats.Count(findings)
	var shown []finding.Finding
	for _, f := range findings {
		if f.Suppressed == "" || f.Suppressed == finding.SuppressedInlineInChange || t.showSuppressed {
			shown = append(shown, f)
		}
	}
	return shown, nil
}

// verifyAll asks Lofty about each distinct key once. Suppressed findings
// and keys expired by their own claims are not sent: a key that is known
// or already dead need not travel again; nor are unconfirmed tokens unless
// --verify-unconfirmed. When ctx ends (a signal, --timeout) the keys not
// yet checked are unknown with the reason; the caller tells the user.
func (t *triageFlags) verifyAll(ctx context.Context, e env, findings []finding.Finding) error {
	base := e.getenv("LOFTY_BASE_URL")
	v, err := verify.New(verify.Options{
		BaseURL:           base,
		RequestsPerMinute: t.verifyRate,
		Timeout:           t.verifyTimeout,
		SendUnconfirmed:   t.verifyUnconfirmed,
		UserAgent:         "loftyscan/" + versionString(),
	})
	if err != nil {
		return &cliError{err: err, hint: "unset LOFTY_BASE_URL to use https://api.lofty.com"}
	}
	var keys []verify.Key
	for _, f := range findings {
		if f.Suppressed == "" && f.Status != rules.StatusExpired {
			keys = append(keys, verify.Key{Token: f.Secret, Confirmed: f.Confirmed()})
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	results := v.VerifyAll(ctx, keys)
	for i := range findings {
		f := &findings[i]
		switch r, ok := results[f.Secret]; {
		case ok:
			f.Verification, f.VerificationReason = verification(r.Status), r.Reason
		case f.Suppressed == "" && f.Status == rules.StatusExpired:
			f.Verification, f.VerificationReason = finding.Unknown, "expired by its claims: not sent"
		}
	}
	return nil
}

// verification is what a finding records of Lofty's answer.
func verification(s verify.Status) finding.Verification {
	switch s {
	case verify.Live:
		return finding.Live
	case verify.Invalid:
		return finding.Invalid
	}
	return finding.Unknown
}
