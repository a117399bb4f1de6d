package cli

import (
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestNumericRanges gives each numeric flag a value out of its range: the
// scan does not start (exit 2) and the error names the flag and says what
// it takes. A value at the top of the range is taken.
func TestNumericRanges(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	repo := testgit.New(t, "").Dir
	for _, tc := range []struct {
		args []string
		want string // in stderr; "" for a scan that runs
	}{
		{[]string{"dir", "-j", "100000000", dir}, "--workers 100000000 is out of range"},
		{[]string{"dir", "--workers", "-1", dir}, "--workers -1 is out of range"},
		{[]string{"git", "-j", "257", repo}, "--workers 257 is out of range"},
		{[]string{"dir", "-j", "256", dir}, ""},
		{[]string{"dir", "--verify", "--verify-rate", "1000000", dir}, "--verify-rate 1000000 is out of range"},
		{[]string{"dir", "--verify", "--verify-rate", "0", dir}, "--verify-rate 0 is out of range"},
		{[]string{"dir", "--verify", "--verify-timeout", "24h", dir}, "--verify-timeout 24h0m0s is out of range"},
		{[]string{"dir", "--timeout", "-1s", dir}, "--timeout -1s is negative"},
		{[]string{"dir", "--exit-code", "300", dir}, "--exit-code 300 is out of range"},
	} {
		code, _, stderr := runInProcess(t, "", tc.args...)
		switch {
		case tc.want == "" && code != 1:
			t.Errorf("%v: exit %d, want 1 (a key found); stderr %s", tc.args, code, stderr)
		case tc.want != "" && (code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "hint:")):
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q with a hint", tc.args, code, stderr, tc.want)
		}
	}
}
