package scanner

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
)

// b64 is standard base64 with padding.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// helmRelease is a Helm 3 release Secret (kubectl get secret -o yaml) whose
// values hold key, after a chart of templates big enough that its double
// base64 is several of a window's lengths.
func helmRelease(t *testing.T, key string) string {
	rng := rand.New(rand.NewPCG(3, 4))
	tpl := make([]byte, 120<<10)
	for i := range tpl {
		tpl[i] = "abcdefghijklmnopqrstuvwxyz {}\n"[rng.IntN(30)]
	}
	release, err := json.Marshal(map[string]any{
		"name":   "crm-sync",
		"chart":  map[string]any{"metadata": map[string]string{"name": "crm-sync"}, "templates": []any{map[string]string{"name": "templates/deploy.yaml", "data": b64(tpl)}}},
		"config": map[string]any{"lofty": map[string]string{"apiKey": key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inner := b64(gzipBytes(t, "", release)) // Helm's encoding
	return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sh.helm.release.v1.crm-sync.v1\ntype: helm.sh/release.v1\ndata:\n  release: " +
		b64([]byte(inner)) + "\n" // Kubernetes's
}

// TestGzipInBase64: a key in a gzip stream written in base64 (one layer or
// two, either alphabet, on one line or wrapped) is found where the run
// starts, its encodings "base64/gzip" before its own; with archives off
// (Limits.ArchiveDepth 0) it is not decoded.
func TestGzipInBase64(t *testing.T) {
	t.Parallel()
	k, k2 := keyActive, keyForever
	env := []byte("# prod\nLOFTY_API_KEY=" + k + "\n")
	gz := gzipBytes(t, "", env)
	twoMembers := append(gzipBytes(t, "", []byte("nothing here\n")), gzipBytes(t, "", env)...)
	type want = wantFinding
	cases := []struct {
		name    string
		content string
		want    []wantFinding
	}{
		{"one line", "USER_DATA=" + b64(gz) + "\n", []want{{Line: 1, Column: 11, Encoding: "base64/gzip", Token: k}}},
		{"wrapped at 76 columns", "data: |\n" + wrapLines(b64(gz), 76, "\n") + "\nnext: 1\n", []want{{Line: 2, Column: 1, Encoding: "base64/gzip", Token: k}}},
		{"URL alphabet, no padding", "x=" + base64.RawURLEncoding.EncodeToString(gz) + "\n", []want{{Line: 1, Column: 3, Encoding: "base64/gzip", Token: k}}},
		{"two members", "blob: " + b64(twoMembers) + "\n", []want{{Line: 1, Column: 7, Encoding: "base64/gzip", Token: k}}},
		{"base64 inside the stream", "blob: " + b64(gzipBytes(t, "", []byte("secret: "+b64([]byte("LOFTY_API_KEY="+k))+"\n"))) + "\n",
			[]want{{Line: 1, Column: 7, Encoding: "base64/gzip/base64", Token: k}}},
		{"two streams", "a: " + b64(gz) + "\nb: " + b64(gzipBytes(t, "", []byte("token="+k2))) + "\n",
			[]want{{Line: 1, Column: 4, Encoding: "base64/gzip", Token: k}, {Line: 2, Column: 4, Encoding: "base64/gzip", Token: k2}}},
		// PHP's json_encode writes '/' as "\/"; Go's gzip header has one.
		{"JSON with escaped slashes", `{"user_data":"` + strings.ReplaceAll(b64(gz), "/", `\/`) + `"}`, []want{{Line: 1, Column: 15, Encoding: "base64/gzip", Token: k}}},
		// .NET's System.Text.Json writes '+' as "\u002B"; some encoders '/'
		// as "\u002f".
		{"JSON with escaped plus signs", `{"UserData":"` + escapePlusSlash(t, b64(gz), `\u002B`, "/") + `"}`, []want{{Line: 1, Column: 14, Encoding: "base64/gzip", Token: k}}},
		{"JSON with escaped plus signs and slashes", `{"UserData":"` + escapePlusSlash(t, b64(gz), `\u002b`, `\u002f`) + `"}`, []want{{Line: 1, Column: 14, Encoding: "base64/gzip", Token: k}}},
		// A YAML block scalar (cloud-init's `content: |`, PyYAML's `!!binary |`).
		{"indented block", "files:\n- encoding: gz+b64\n  content: |\n    " + wrapLines(b64(gz), 76, "\n    ") + "\n  path: /etc/x.env\n",
			[]want{{Line: 4, Column: 5, Encoding: "base64/gzip", Token: k}}},
		{"indented block, CRLF", "content: !!binary |\r\n  " + wrapLines(b64(twoMembers), 76, "\r\n  ") + "\r\nnext: 1\r\n",
			[]want{{Line: 2, Column: 3, Encoding: "base64/gzip", Token: k}}},
		{"Helm release Secret", helmRelease(t, k), []want{{Line: 7, Column: 12, Encoding: "base64/base64/gzip", Token: k}}},
		// A label whose letters are all base64 on the line before the
		// block: the run started there, and the stream was not seen.
		{"a word on the line before", "payload\n" + wrapLines(b64(gz), 76, "\n") + "\n", []want{{Line: 2, Column: 1, Encoding: "base64/gzip", Token: k}}},
		{"a word of 8 on the line before, CRLF", "userdata\r\n" + wrapLines(b64(gz), 76, "\r\n") + "\r\n", []want{{Line: 2, Column: 1, Encoding: "base64/gzip", Token: k}}},
		{"base64 of base64 after a word", "release\n" + wrapLines(b64([]byte(b64(gz))), 76, "\n") + "\n", []want{{Line: 2, Column: 1, Encoding: "base64/base64/gzip", Token: k}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFixture(t, dir, "f.txt", []byte(tc.content))
			for i := range tc.want {
				tc.want[i].Path = "f.txt"
			}
			c, _ := scanPaths(t, testOptions(), dir)
			checkFound(t, c.Findings, tc.want...)
			checkWarnings(t, c.Warnings)
			// Read as a stream too (standard input), and in a file past
			// the size that is held whole.
			c, _ = scanData(t, testOptions(), []byte(tc.content+strings.Repeat("padding line\n", 200_000)))
			for i := range tc.want {
				tc.want[i].Path = "in"
			}
			checkFound(t, c.Findings, tc.want...)
			checkWarnings(t, c.Warnings)

			off := testOptions()
			off.Limits.ArchiveDepth = 0
			if c, _ := scanData(t, off, []byte(tc.content)); len(c.Findings) != 0 {
				t.Errorf("with archives off: %d findings, want none", len(c.Findings))
			}
		})
	}
}

// TestGzipInBase64Budget: a gzip stream in base64 that inflates past the
// budget (gzipPerByte times the text, plus gzipBase) is searched up to it,
// with a warning; a damaged one up to the damage, with a warning; the
// file's other keys are found all the same, and the work stays within the
// budget.
func TestGzipInBase64Budget(t *testing.T) {
	if raceBuild {
		t.Skip("inflates gzip bombs up to the budget (34 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	k, late, after := keyActive, keyForever, keyExpired
	var bomb bytes.Buffer
	bomb.WriteString("LOFTY_API_KEY=" + k + "\n")
	bomb.Write(make([]byte, 200<<20))
	bomb.WriteString("\nLOFTY_API_KEY=" + late + "\n")
	bombGz := gzipBytes(t, "", bomb.Bytes())
	content := "bomb: " + b64(bombGz) + "\nLOFTY_API_KEY=" + after + "\n"
	c := &Collector{}
	s := New(testOptions())
	st, err := s.ScanReader(t.Context(), "in", strings.NewReader(content), c)
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, c.Findings,
		wantFinding{Path: "in", Line: 1, Column: 7, Encoding: "base64/gzip", Token: k},
		wantFinding{Path: "in", Line: 2, Column: 15, Token: after})
	checkWarnings(t, c.Warnings, wantWarning{Path: "in", Contains: "1 gzip stream written in base64 inflates past what a scan decodes of it (16 times the text searched plus 256 KiB, at most 64 MiB a stream) and was searched up to there, a key past it missed; to search the rest, decode it by hand (base64 -d | gunzip) and scan that"})
	if st.Bytes != int64(len(content)) {
		t.Errorf("scanned %d bytes of %d", st.Bytes, len(content))
	}

	// Work: what the finder searched, against the budget of a file this
	// size (one chunk: the whole of it).
	f := finder{cfg: testOptions().Rules, gz: gzipState{on: true}}
	var hits int
	f.find([]byte(content), func(hit) { hits++ })
	if budget := int64(gzipPerByte*len(content) + gzipBase); f.searched > len64(content)+budget*11/10 {
		t.Errorf("searched %d bytes for %d of input; the budget is %d", f.searched, len(content), budget)
	}

	// Damaged: the stream cut in half. The key near its start is found.
	gz := gzipBytes(t, "", []byte("LOFTY_API_KEY="+k+"\n"+strings.Repeat("filler text that compresses poorly? no, but it is long\n", 2000)))
	cut := "half: " + b64(gz[:len(gz)/2]) + "\n"
	c, _ = scanData(t, testOptions(), []byte(cut))
	checkFound(t, c.Findings, wantFinding{Path: "in", Line: 1, Column: 7, Encoding: "base64/gzip", Token: k})
	checkWarnings(t, c.Warnings, wantWarning{Path: "in", Contains: "1 gzip stream written in base64 is damaged (corrupt, or cut short"})

	// A Helm release cut short, with another stream: the warning says how
	// to decode base64 of base64 too.
	helm := helmRelease(t, k)
	c, _ = scanData(t, testOptions(), []byte(cut+helm[:len(helm)/2]+"\n"))
	checkFound(t, c.Findings, wantFinding{Path: "in", Line: 1, Column: 7, Encoding: "base64/gzip", Token: k})
	checkWarnings(t, c.Warnings, wantWarning{Path: "in", Contains: "2 gzip streams written in base64 are damaged (corrupt, or cut short: past 2 MiB of base64 in a file read in stretches, or 64 KiB past a 1 MiB stretch of inflated text) and were searched up to the damage, a key past it missed; to search the rest, decode them by hand (base64 -d | gunzip; base64 of base64, as in a Helm release: base64 -d | base64 -d | gunzip) and scan that"})
}

func len64(s string) int64 { return int64(len(s)) }

// indentBlock wraps s at width and indents every line by indent, each line
// ended by eol.
func indentBlock(s string, width int, indent, eol string) string {
	var b strings.Builder
	for len(s) > 0 {
		n := min(width, len(s))
		b.WriteString(indent + s[:n] + eol)
		s = s[n:]
	}
	return b.String()
}

// TestIndentedBase64: base64 wrapped on lines that share an indentation (a
// YAML block scalar, a list) is one text, as wrapped lines without
// indentation are: a key anywhere in it is found where its encoded text
// starts. A line indented otherwise, or text before the first line's
// base64, ends it; so does a line break into less indentation.
func TestIndentedBase64(t *testing.T) {
	t.Parallel()
	k := keyActive
	text := "# synced from the vault\nLOFTY_API_KEY=" + k + "\nREGION=us\n"
	enc := b64([]byte(text))
	// The key's encoded text starts e characters into enc.
	e := b64Column(0, strings.Index(text, k))
	at := func(firstLine, indent, width int) wantFinding {
		return wantFinding{Path: "in", Line: firstLine + e/width, Column: indent + 1 + e%width, Encoding: "base64", Token: k}
	}
	gz := b64(gzipBytes(t, "", []byte(text)))
	cases := []struct {
		name    string
		content string
		want    []wantFinding
	}{
		{"YAML block, 4 spaces, 76 columns", "data:\n  app.env: |\n" + indentBlock(enc, 76, "    ", "\n") + "  other: 1\n", []wantFinding{at(3, 4, 76)}},
		{"tabs, 64 columns, CRLF", "env: |\r\n" + indentBlock(enc, 64, "\t\t", "\r\n"), []wantFinding{at(2, 2, 64)}},
		{"followed by a line indented less that looks like base64", "v: |\n" + indentBlock(enc, 76, "      ", "\n") + "  abcdefghABCDEFGH0123456789abcdefghABCDEFGH0123456789abcdefgh\n", []wantFinding{at(2, 6, 76)}},
		{"followed by a line indented more", "v: |\n" + indentBlock(enc, 76, "  ", "\n") + "      abcdefghABCDEFGH0123456789abcdefghABCDEFGH0123456789abcdefgh\n", []wantFinding{at(2, 2, 76)}},
		{"the key ends the block, a line indented less follows", func() string {
			tail := "LOFTY_API_KEY=" + k
			for len(tail)%3 != 0 {
				tail = " " + tail
			}
			return "v: |\n" + indentBlock(b64([]byte(tail)), 76, "    ", "\n") + "  QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ego\n"
		}(), []wantFinding{{Path: "in", Line: 2, Column: 5 + b64Column(0, len("LOFTY_API_KEY=")+(3-len("LOFTY_API_KEY="+k)%3)%3), Encoding: "base64", Token: k}}},
		{"gzip in an indented block", "data:\n  release: |\n" + indentBlock(gz, 76, "    ", "\n"), []wantFinding{{Path: "in", Line: 3, Column: 5, Encoding: "base64/gzip", Token: k}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := scanData(t, testOptions(), []byte(tc.content))
			checkFound(t, c.Findings, tc.want...)
			checkWarnings(t, c.Warnings)
			// The windows alone (no quick decoding of lines) find the same.
			f := finder{cfg: testOptions().Rules, windowsOnly: true, gz: gzipState{on: true}}
			var n int
			f.find([]byte(tc.content), func(h hit) {
				if h.match.Token == k {
					n++
				}
			})
			if n == 0 {
				t.Error("the windows alone do not find the key")
			}
		})
	}
}

// TestGzipInBase64NestedBudget: a stream whose text holds another stream
// (a bomb in a bomb) shares one budget with it: what the inner one inflates
// is taken from what the outer one may, not added to it. The outer one's
// bytes used to be taken from the budget only at its end, so the inner ones
// had it whole again (twice the budget), and the budget went below zero: the
// next stream sliced its buffer with a negative length, a panic that lost
// the rest of the file (the key after the bombs).
func TestGzipInBase64NestedBudget(t *testing.T) {
	t.Parallel()
	inner := "x: " + b64(gzipBytes(t, "", make([]byte, 2<<20))) + "\n"
	bombs := "a: " + b64(gzipBytes(t, "", append([]byte(inner), make([]byte, 2<<20)...))) + "\n"

	f := finder{cfg: testOptions().Rules, gz: gzipState{on: true}}
	f.find([]byte(bombs), func(hit) {})
	if budget := int64(gzipPerByte*len(bombs) + gzipBase); f.searched > len64(bombs)+budget*11/10 {
		t.Errorf("searched %d bytes for %d of input; the budget is %d", f.searched, len(bombs), budget)
	}

	content := bombs + "b: " + b64(gzipBytes(t, "", []byte("nothing here but "+jwtGeneric+"\n"))) + "\nLOFTY_API_KEY=" + keyActive + "\n"
	c, _ := scanData(t, testOptions(), []byte(content))
	checkFound(t, c.Findings, wantFinding{Path: "in", Line: 3, Column: 15, Token: keyActive})
	checkWarnings(t, c.Warnings, wantWarning{Path: "in", Contains: "3 gzip streams written in base64 inflate past what a scan decodes of them"})
}

// TestGzipInBase64Alloc: thousands of short gzip streams in base64, one a
// line, allocate within the finder's bound per byte (allocPerByte), as
// plain base64 does. A gzip reader made for each stream allocated about
// 150 bytes per byte of input (a 4 MB file: 1.2 s and 48 MB of RSS, against
// 0.2 s and 22 MB with the reader reused). Not parallel: runtime.MemStats
// counts the whole process.
func TestGzipInBase64Alloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var in, gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for in.Len() < 256<<10 {
		raw := make([]byte, 40)
		for i := range raw {
			raw[i] = byte('a' + rng.IntN(16))
		}
		gz.Reset()
		zw.Reset(&gz)
		zw.Write(raw)
		zw.Close()
		in.WriteString(b64(gz.Bytes()) + "\n")
	}
	in.WriteString(strings.Repeat("H4sIAAAAAAAC"+strings.Repeat("A", 64)+"\n", 1000)) // headers cut short
	buf := in.Bytes()
	f := &finder{cfg: testOptions().Rules, gz: gzipState{on: true}}
	f.find(buf[:4<<10], func(hit) {}) // the buffers of one stretch, made once per worker
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f.find(buf, func(hit) {})
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > allocPerByte*uint64(len(buf)) {
		t.Errorf("finding in %d bytes of short gzip streams allocated %d bytes (%.0f a byte), over the %d allowed", len(buf), alloc, float64(alloc)/float64(len(buf)), allocPerByte)
	}
}

// TestGzipInBase64Streamed: in a stream read in chunks (standard input, a
// file over 1 MiB), a run that starts a gzip stream and crosses the end of
// a chunk's buffer (a Helm release Secret in `kubectl get secrets -A -o
// yaml`) is read whole: the chunk grows to hold it. It used to be inflated
// up to the cut, with a warning, and the key in the release's values,
// after its chart, was missed. A run that starts in the overlap a chunk
// shares with the next is the next one's: it gave a warning though the
// next chunk searched it whole. Positions after a grown chunk are those of
// the file.
func TestGzipInBase64Streamed(t *testing.T) {
	if raceBuild {
		t.Skip("streams megabytes of gzip in base64 (14 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	helm := helmRelease(t, keyActive) // 7 lines, the run on line 7 at column 12
	rng := rand.New(rand.NewPCG(7, 8))
	noise := make([]byte, 90<<10) // compresses poorly: a run of 120 KB
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	long := "r: " + b64(gzipBytes(t, "", append([]byte("LOFTY_API_KEY="+keyForever+"\n"), noise...))) + "\n"
	for _, at := range []int{chunkSize - 100<<10, chunkSize + back - 20<<10, chunkSize + back + overlap - 30<<10} {
		pad := strings.Repeat("p\n", at/2)
		lines := at / 2
		content := pad + helm + long + "LOFTY_API_KEY=" + keyExpired + "\n" + strings.Repeat("q\n", 1<<18) + "LOFTY_API_KEY=" + keyExpired + "\n"
		c, _ := scanData(t, testOptions(), []byte(content))
		checkFound(t, c.Findings,
			wantFinding{Path: "in", Line: lines + 7, Column: 12, Encoding: "base64/base64/gzip", Token: keyActive},
			wantFinding{Path: "in", Line: lines + 8, Column: 4, Encoding: "base64/gzip", Token: keyForever},
			// The noise made deflate store the block: the key's bytes are there as they are.
			wantFinding{Path: "in", Line: lines + 8, Column: 40, Encoding: "base64", Token: keyForever},
			wantFinding{Path: "in", Line: lines + 9, Column: 15, Token: keyExpired},
			wantFinding{Path: "in", Line: lines + 9 + 1<<18 + 1, Column: 15, Token: keyExpired})
		checkWarnings(t, c.Warnings)
	}
	// A label line ("payload") before a wrapped block that crosses a
	// chunk's end: the chunk grows to hold the stream's run, read from
	// the line after the label as decodeRun reads it.
	words := make([]byte, 90<<10) // compresses: the key is in the stream only
	for i := range words {
		words[i] = byte('a' + rng.IntN(26))
	}
	wrapped := "payload\n" + wrapLines(b64(gzipBytes(t, "", append([]byte("LOFTY_API_KEY="+keyForever+"\n"), words...))), 76, "\n") + "\n"
	for _, at := range []int{chunkSize - 40<<10, chunkSize + back - 20<<10} {
		pad := strings.Repeat("p\n", at/2)
		c, _ := scanData(t, testOptions(), []byte(pad+wrapped+strings.Repeat("q\n", 1<<18)))
		found := false
		for _, f := range c.Findings {
			found = found || f.Secret == keyForever && f.Encoding == "base64/gzip" && f.Line == at/2+2 && f.Column == 1
		}
		if !found {
			t.Errorf("a wrapped stream after a label at %d: not found at line %d (%d findings)", at, at/2+2, len(c.Findings))
		}
		checkWarnings(t, c.Warnings)
	}

	// Releases one after another (kubectl get secrets -A -o yaml): after
	// a chunk grew to hold one, the next that crosses its new end is the
	// next chunk's, read whole there (it was cut, and its key missed).
	// The first crosses the first buffer's end, which grows by a chunk;
	// the sixth starts 150 KB before the grown buffer's end.
	pad := (bufSize + chunkSize - 5*len(helm) - 150<<10) / 2 * 2
	if pad+len(helm) <= bufSize || pad >= bufSize-overlap || len(helm) < 150<<10 {
		t.Fatalf("a release of %d bytes: the test's layout does not hold", len(helm))
	}
	var dump strings.Builder
	dump.WriteString(strings.Repeat("p\n", pad/2))
	var releases []wantFinding
	for range 8 {
		lines := strings.Count(dump.String(), "\n")
		dump.WriteString(helm)
		releases = append(releases, wantFinding{Path: "in", Line: lines + 7, Column: 12, Encoding: "base64/base64/gzip", Token: keyActive})
	}
	c, _ := scanData(t, testOptions(), []byte(dump.String()))
	checkFound(t, c.Findings, releases...)
	checkWarnings(t, c.Warnings)

	// The same run in JSON whose '/' are escaped ("\/"), read whole: its
	// findings are those of the run alone, lines down.
	letters := make([]byte, 200<<10) // compressed by half: no stored block shows the key
	for i := range letters {
		letters[i] = byte('a' + rng.IntN(16))
	}
	run := b64(gzipBytes(t, "", append([]byte("LOFTY_API_KEY="+keyForever+"\n"), letters...)))
	forms := []struct {
		text      string
		line, col int
	}{
		{`{"r":"` + strings.ReplaceAll(run, "/", `\/`) + "\"}\n", 1, 7},
		{"content: |\n    " + wrapLines(run, 76, "\n    ") + "\npath: x\n", 2, 5}, // and in a YAML block
		{"content: |\n\t\t" + wrapLines(run, 76, "\n\t\t") + "\npath: x\n", 2, 3}, // indented with tabs
	}
	for _, form := range forms {
		alone, _ := scanData(t, testOptions(), []byte(form.text))
		checkFound(t, alone.Findings, wantFinding{Path: "in", Line: form.line, Column: form.col, Encoding: "base64/gzip", Token: keyForever})
		at := chunkSize - 50<<10
		c, _ = scanData(t, testOptions(), []byte(strings.Repeat("p\n", at/2)+form.text+strings.Repeat("q\n", 1<<16)))
		checkFound(t, c.Findings, wantFinding{Path: "in", Line: at/2 + form.line, Column: form.col, Encoding: "base64/gzip", Token: keyForever})
		checkWarnings(t, c.Warnings)
	}

	// The same in the inflated text, searched in stretches: a stream nested
	// in it that starts in the overlap at a stretch's end is the next
	// stretch's, searched whole there (it gave a warning, being cut in the
	// first).
	secret := make([]byte, 100<<10) // compressed by half: about 70 KB of base64
	for i := range secret {
		secret[i] = byte('a' + rng.IntN(16))
	}
	nested := b64(gzipBytes(t, "", append([]byte("LOFTY_API_KEY="+keyActive+"\n"), secret...)))
	text := strings.Repeat("z", gzipStretch+30<<10) + "\nr: " + nested + "\n"
	c, _ = scanData(t, testOptions(), []byte("s: "+b64(gzipBytes(t, "", []byte(text)))+"\n"))
	checkFound(t, c.Findings, wantFinding{Path: "in", Line: 1, Column: 4, Encoding: "base64/gzip/base64/gzip", Token: keyActive})
	checkWarnings(t, c.Warnings)

	// A run longer than gzipTextMax is cut, with a warning.
	big := make([]byte, gzipTextMax)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	content := strings.Repeat("p\n", 1000) + "r: " + b64(gzipBytes(t, "", big)) + "\n" + "LOFTY_API_KEY=" + keyExpired + "\n"
	c, _ = scanData(t, testOptions(), []byte(content))
	checkFound(t, c.Findings, wantFinding{Path: "in", Line: 1002, Column: 15, Token: keyExpired})
	checkWarnings(t, c.Warnings, wantWarning{Path: "in", Contains: "1 gzip stream written in base64 is damaged"})
}

// TestGzipInBase64Allow: an allow comment at the end of a long run's line
// (a Helm release's, one line of 260 KB) suppresses the keys in the run:
// the lines checked were those of the length of the key from the run's
// start, not the run's. A comment on the next line does not.
func TestGzipInBase64Allow(t *testing.T) {
	t.Parallel()
	h := strings.TrimSuffix(helmRelease(t, keyActive), "\n")
	c, _ := scanData(t, testOptions(), []byte(h+" # loftyscan:allow\n"))
	if len(c.Findings) != 1 || c.Findings[0].Suppressed != finding.SuppressedInline {
		t.Errorf("allow comment after the run: %d findings, want one suppressed: %v", len(c.Findings), c.Findings)
	}
	c, _ = scanData(t, testOptions(), []byte(h+"\nnext: 1 # loftyscan:allow\n"))
	if len(c.Findings) != 1 || c.Findings[0].Suppressed != "" {
		t.Errorf("allow comment on the next line: %d findings, want one not suppressed: %v", len(c.Findings), c.Findings)
	}
}

// escapePlusSlash writes the '+' and '/' of base64 text s as plus and
// slash, as a JSON encoder may; the test needs s to hold a '+'.
func escapePlusSlash(t *testing.T, s, plus, slash string) string {
	t.Helper()
	if !strings.Contains(s, "+") {
		t.Fatal("the base64 holds no '+': the case tests nothing")
	}
	return strings.NewReplacer("+", plus, "/", slash).Replace(s)
}
