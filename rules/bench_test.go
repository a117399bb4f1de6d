package rules

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

const benchSize = 4 << 20

// goSource returns about 4 MB of real Go source: net/http from the local Go
// installation, repeated. It skips the benchmark when there is none.
func goSource(b *testing.B) []byte {
	b.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("no Go installation: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "src", "net", "http", "*.go"))
	var src []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Skipf("reading Go source: %v", err)
		}
		src = append(src, data...)
	}
	if len(src) == 0 {
		b.Skip("no Go source in GOROOT/src/net/http")
	}
	buf := make([]byte, 0, benchSize+len(src))
	for len(buf) < benchSize {
		buf = append(buf, src...)
	}
	return buf
}

// plant inserts n lines holding keys at evenly spaced line starts.
func plant(buf []byte, n int) []byte {
	out := make([]byte, 0, len(buf)+n*400)
	step := len(buf) / n
	last := 0
	for i := range n {
		at := bytes.IndexByte(buf[i*step:], '\n')
		if at < 0 {
			break
		}
		at += i*step + 1
		out = append(out, buf[last:at]...)
		if i%2 == 0 {
			out = append(out, "const loftyKey = \""+testtoken.Key("agent-"+itoa(i), future)+"\"\n"...)
		} else {
			out = append(out, "LOFTY_API_KEY="+testtoken.Generic("agent-"+itoa(i))+"\n"...)
		}
		last = at
	}
	return append(out, buf[last:]...)
}

// genericHeavy is about 4 MB of configuration text in which a third of the
// lines hold a Supabase-like token and none holds a Lofty key.
func genericHeavy() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < benchSize; i++ {
		tok := testtoken.Sign(map[string]any{
			"iss": "supabase", "ref": "project" + itoa(i%1000), "role": "anon", "iat": 1641769200, "exp": 1957345200,
		})
		switch i % 3 {
		case 0:
			b.WriteString("SUPABASE_ANON_KEY=" + tok + "\n")
		case 1:
			b.WriteString(`const supabase = createClient("https://project.supabase.co", "` + tok + `");` + "\n")
		case 2:
			b.WriteString(`{"access_token":"` + tok + `","token_type":"bearer","expires_in":3600}` + "\n")
		}
		b.WriteString("# a line of ordinary configuration text between tokens, with key=value pairs\n")
	}
	return b.Bytes()
}

func benchFind(b *testing.B, buf []byte, wantMatches int) {
	b.Helper()
	if got := len(cfg.Find(buf)); wantMatches >= 0 && got != wantMatches {
		b.Fatalf("%d matches, want %d", got, wantMatches)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cfg.Find(buf)
	}
}

func BenchmarkFindGoSource(b *testing.B) {
	benchFind(b, goSource(b), 0)
}

func BenchmarkFindGoSource100Keys(b *testing.B) {
	benchFind(b, plant(goSource(b), 100), 100)
}

func BenchmarkFindGenericJWTs(b *testing.B) {
	benchFind(b, genericHeavy(), 0)
}

func BenchmarkFindPathological(b *testing.B) {
	for _, p := range pathological {
		b.Run(p.name, func(b *testing.B) {
			benchFind(b, pathologicalInput(p.unit), 0)
		})
	}
}

func BenchmarkParseToken(b *testing.B) {
	tok := key(map[string]any{"exp": future.Unix()})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseToken(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSearch(b *testing.B, buf []byte) {
	b.Helper()
	s := DefaultSearcher()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		s.Search(buf, func(Hit) int { return 0 })
	}
}

// BenchmarkSearchGoSource is the one-pass search for every form and run
// over Go source without keys.
func BenchmarkSearchGoSource(b *testing.B) { benchSearch(b, goSource(b)) }

// BenchmarkSearchFiller is the same over the prose the scanner's
// benchmarks use.
func BenchmarkSearchFiller(b *testing.B) {
	const filler = "héllo wörld, 日本語 filler; nothing secret here\nshort\n\n"
	benchSearch(b, bytes.Repeat([]byte(filler), benchSize/len(filler)))
}
