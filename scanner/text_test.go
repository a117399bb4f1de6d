package scanner

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// TestScanTextMatchesScanBytes checks that ScanText finds, warns and counts
// exactly as ScanBytes does, on texts that take its shortcut and texts
// that do not.
func TestScanTextMatchesScanBytes(t *testing.T) {
	t.Parallel()
	key := testtoken.Key("text", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	texts := map[string][]byte{
		"empty":          nil,
		"plain message":  []byte("Fix the parser\n\nIt broke on empty input.\n\nSigned-off-by: A <a@example.com>\n"),
		"key":            []byte("use " + key + " for the demo"),
		"base64 key":     []byte("LOFTY: " + base64.StdEncoding.EncodeToString([]byte(key)) + "\n"),
		"hex key":        []byte("k=" + hex.EncodeToString([]byte(key)) + "\n"),
		"utf-16 key":     utf16Text("key " + key),
		"commit hashes":  []byte("Revert 0123456789abcdef0123456789abcdef01234567 and 89abcdef0123456789abcdef0123456789abcdef\n"),
		"long run":       []byte("blob: " + strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", 4) + "\n"),
		"lone eyJ":       []byte("eyJ is how a JWS starts\n"),
		"gzip":           gzipBytes(t, "", []byte("LOFTY_API_KEY="+key+"\n")),
		"gzip, no key":   gzipBytes(t, "", []byte("nothing\n")),
		"7z magic":       append([]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, "rest"...),
		"looks like zip": []byte("PK\x03\x04 but not a zip"),
	}
	// Both ways are taken: a message with nothing key-like is passed over,
	// one with a key or an encoded run is scanned.
	for name, want := range map[string]bool{"plain message": false, "empty": false, "key": true, "base64 key": true, "hex key": true, "utf-16 key": true, "commit hashes": false, "long run": true} {
		if mayHoldKey(texts[name]) != want {
			t.Errorf("%s: mayHoldKey %v, want %v", name, !want, want)
		}
	}
	for name, text := range texts {
		got := scanTextOrBytes(t, func(w *Worker) error { return w.ScanText(context.Background(), "msg", text) })
		want := scanTextOrBytes(t, func(w *Worker) error { return w.ScanBytes(context.Background(), "msg", text) })
		if got != want {
			t.Errorf("%s: ScanText\n%s\nScanBytes\n%s", name, got, want)
		}
	}
}

// scanTextOrBytes runs scan on a new worker and describes what came of it.
func scanTextOrBytes(t *testing.T, scan func(*Worker) error) string {
	t.Helper()
	c := &Collector{}
	r := New(DefaultOptions()).Start(c)
	err := scan(r.NewWorker())
	st := r.Stats()
	var out []string
	for _, f := range c.Findings {
		out = append(out, fmt.Sprintf("finding %s %d:%d %s %s", f.Path, f.Line, f.Column, f.Encoding, f.Fingerprint))
	}
	for _, w := range c.Warnings {
		out = append(out, "warning "+w.String())
	}
	slices.Sort(out)
	return fmt.Sprintf("err %v files %d bytes %d errors %d warnings %d\n%s", err, st.Files, st.Bytes, st.Errors, st.Warnings, strings.Join(out, "\n"))
}

func utf16Text(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}
