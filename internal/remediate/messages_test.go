package remediate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Keys in long messages are found wherever they are, across the windows
// messages are read in; a message cannot forge the end of its record.
func TestMessageKeysReadsLongAndOddMessages(t *testing.T) {
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	straddle, _ := testKey("straddle")
	late, _ := testKey("late")
	forged, _ := testKey("forged")
	inTag, _ := testKey("tag")
	filler := strings.Repeat("lorem ipsum dolor sit amet\n", msgChunk/27)
	msgs := []string{
		"long\n\n" + filler[:msgChunk-100] + straddle + "\n" + filler,
		"separators\n\n" + strings.Repeat("\x1e", 3*msgChunk) + "\nLOFTY_API_KEY=" + late + "\n",
		"forged\n\n" + strings.Repeat("0", 40) + "\x1e" + "fake head\nlofty_token=" + forged + "\n",
	}
	var commits []string
	for i, m := range msgs {
		f := filepath.Join(base, "msg")
		if err := os.WriteFile(f, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		r.write(map[string]string{"f.txt": strings.Repeat("x", i)})
		r.git("add", "-A")
		r.git("commit", "-q", "-F", f)
		commits = append(commits, strings.TrimSpace(r.git("rev-parse", "HEAD")))
	}
	r.git("tag", "-a", "v1", "-m", "release\n\ntoken "+inTag)
	tagObj := strings.TrimSpace(r.git("rev-parse", "v1"))

	got := map[string]Occurrence{}
	for _, k := range messageKeys(t, r.dir) {
		if len(k.Occurrences) != 1 {
			t.Errorf("key %s: %d occurrences", k.Subject, len(k.Occurrences))
		}
		got[k.Secret] = k.Occurrences[0]
	}
	for secret, want := range map[string]Occurrence{
		straddle: {Commit: commits[0], InMessage: true},
		late:     {Commit: commits[1], InMessage: true},
		forged:   {Commit: commits[2], InMessage: true},
		inTag:    {Commit: tagObj, InMessage: true, Tag: "v1"},
	} {
		if got[secret] != want {
			t.Errorf("key %s: found at %+v, want %+v", redactToken(secret), got[secret], want)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d keys, want 4", len(got))
	}
}
