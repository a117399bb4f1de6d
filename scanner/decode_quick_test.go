package scanner

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
)

// TestQuickLine: a run whose decoded text holds nothing is done with at
// once (quickLine), and the hits are those of decoding every run in
// windows: over JWT-dense JSON, and over runs that do hold keys, among
// them a key base64-encoded in a claim of a generic JWT, which only the
// decoding of the JWT's payload as a run finds.
func TestQuickLine(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString
	carrier := testtoken.Sign(map[string]any{"sub": "x", "blob": b64([]byte(keyActive))})
	inputs := map[string]string{
		"jwt fixtures":         string(jwtFixtures()[:256<<10]),
		"key in a claim":       `{"access_token": "` + carrier + `"}` + "\n",
		"base64 of base64":     "v: " + b64([]byte(b64([]byte("user:"+keyActive)))) + "\n",
		"hex of base64":        "h=" + hex.EncodeToString([]byte(b64([]byte(keyActive)))) + ";\n",
		"short runs":           strings.Repeat("id=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= x\n", 200),
		"run after a run":      "AAAA\n" + b64([]byte(b64([]byte(keyActive)))) + "\n",
		"run before a newline": b64([]byte(b64([]byte(keyActive)))) + "\r\nAAAA\n",
	}
	for name, in := range inputs {
		slow := findAll(&finder{cfg: rules.Config{Now: refNow}, windowsOnly: true}, []byte(in))
		quick := findAll(&finder{cfg: rules.Config{Now: refNow}}, []byte(in))
		if !sameHits(quick, slow) {
			t.Errorf("%s: %d hits with quickLine, %d decoding in windows", name, len(quick), len(slow))
		}
		if name != "jwt fixtures" && name != "short runs" && len(quick) == 0 {
			t.Errorf("%s: the key was not found", name)
		}
	}
	hits := findAll(&finder{cfg: rules.Config{Now: refNow}}, []byte(inputs["key in a claim"]))
	if len(hits) == 0 || hits[0].match.Token != keyActive || hits[0].encoding != "base64/base64" {
		t.Errorf("the key in a claim of a JWT: %d hits", len(hits))
	}
}
