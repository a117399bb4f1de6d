package ghaction

import (
	"bytes"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// runner is a model of how the GitHub Actions runner reads a step's
// output, written from actions/runner (src/Runner.Common/ActionCommand.cs:
// TryParseV2, TryParse; src/Runner.Worker/ActionCommandManager.cs:
// TryProcessCommand): lines split at CR, LF or CRLF as .NET's ReadLine
// does; each line tried as a "::name props::data" command, then as an old
// "##[name props]data" one anywhere in the line; stop-commands and its
// token. The runner is C# and cannot run here: this is its logic, as the
// oracle for the renderer.
type runner struct {
	registered map[string]bool // lower case
	stopToken  string
	commands   []command // the commands it processed
}

type command struct {
	name  string
	props map[string]string
	data  string
}

func newRunner() *runner {
	r := &runner{registered: map[string]bool{}}
	for _, n := range []string{"stop-commands", "error", "warning", "notice", "debug", "group", "endgroup", "echo",
		"add-mask", "set-output", "save-state", "set-env", "add-path", "add-matcher", "remove-matcher", "internal-set-repo-path"} {
		r.registered[n] = true
	}
	return r
}

// feed reads output as the runner reads a step's.
func (r *runner) feed(output string) {
	for _, line := range regexp.MustCompile(`\r\n|\r|\n`).Split(output, -1) {
		r.line(line)
	}
}

func (r *runner) line(line string) {
	c, ok := r.parseV2(line)
	if !ok {
		c, ok = r.parseLegacy(line)
	}
	if !ok {
		return
	}
	name := strings.ToLower(c.name)
	switch {
	case r.stopToken != "":
		if name == strings.ToLower(r.stopToken) {
			delete(r.registered, name)
			r.stopToken = ""
			r.commands = append(r.commands, c)
		}
	case name == "stop-commands":
		// The runner refuses an empty token or a command's name.
		if c.data != "" && !r.registered[strings.ToLower(c.data)] {
			r.stopToken = c.data
			r.registered[strings.ToLower(c.data)] = true
		}
		r.commands = append(r.commands, c)
	default:
		r.commands = append(r.commands, c)
	}
}

func (r *runner) parseV2(msg string) (command, bool) {
	msg = strings.TrimLeftFunc(msg, unicode.IsSpace)
	if !strings.HasPrefix(msg, "::") {
		return command{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return command{}, false
	}
	info := msg[2 : 2+end]
	name, props, hasProps := strings.Cut(info, " ")
	if !r.registered[strings.ToLower(name)] {
		return command{}, false
	}
	c := command{name: name, props: map[string]string{}}
	if hasProps && name != "" {
		for _, p := range strings.Split(strings.TrimSpace(props), ",") {
			k, v, ok := strings.Cut(p, "=")
			if p != "" && ok && k != "" && v != "" {
				c.props[k] = replaceAll(v, "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
			}
		}
	}
	c.data = replaceAll(msg[2+end+2:], "%0D", "\r", "%0A", "\n", "%25", "%")
	return c, true
}

func (r *runner) parseLegacy(msg string) (command, bool) {
	i := strings.Index(msg, "##[")
	if i < 0 {
		return command{}, false
	}
	rb := strings.IndexByte(msg[i:], ']')
	if rb < 0 {
		return command{}, false
	}
	info := msg[i+3 : i+rb]
	name, _, _ := strings.Cut(info, " ")
	if !r.registered[strings.ToLower(name)] {
		return command{}, false
	}
	return command{name: name, props: map[string]string{}, data: msg[i+rb+1:]}, true
}

// replaceAll replaces each old with its new in turn, as the runner's
// unescaping does (one string.Replace after another).
func replaceAll(s string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

func TestAnnotationString(t *testing.T) {
	for _, c := range []struct {
		a    Annotation
		want string
	}{
		{Annotation{Message: "m"}, "::error::m"},
		{Annotation{Level: LevelWarning, Title: "loftyscan", Message: "m"}, "::warning title=loftyscan::m"},
		{Annotation{Level: LevelNotice, Message: "no keys"}, "::notice::no keys"},
		{
			Annotation{Title: "Lofty API key", File: "app/new.env", Line: 3, EndLine: 3, Col: 15, EndColumn: 20, Message: "eyJhbGciOi…abcd in app/new.env"},
			"::error file=app/new.env,line=3,endLine=3,col=15,endColumn=20,title=Lofty API key::eyJhbGciOi…abcd in app/new.env",
		},
		{
			Annotation{Title: "a, b: c", File: "dir,x/a:b.env", Line: 1, Message: "100% sure: a, b"},
			"::error file=dir%2Cx/a%3Ab.env,line=1,title=a%2C b%3A c::100%25 sure: a, b",
		},
		{Annotation{Message: "two\r\nlines\n"}, "::error::two%0D%0Alines%0A"},
		{Annotation{Message: "esc \x1b[31mred\x1b[0m, bell \a, del \x7f, nel \u0085, rlo \u202e, ls \u2028, tab \t"},
			`::error::esc \x1B[31mred\x1B[0m, bell \x07, del \x7F, nel \x85, rlo \u202E, ls \u2028, tab ` + "\t"},
		{Annotation{Message: "bad \xff utf-8"}, "::error::bad \ufffd utf-8"},
	} {
		if got := c.a.String(); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.a, got, c.want)
		}
	}
}

// TestAnnotationInjection renders annotations whose text tries to start a
// command of its own and checks, with the runner model, that the line is
// one command that carries the text back as it was.
func TestAnnotationInjection(t *testing.T) {
	attacks := []string{
		"\n::error title=x::injected",
		"\r::error title=x::injected",
		"\r\n::add-mask::x",
		"%0A::error title=x::injected",
		"%0D%0A::error::x",
		"%250A::error::x",
		"%",
		"%%0A%",
		"x::error::y",
		"::error::x",
		"a,title=evil,file=/etc/passwd",
		"line=1,col=2",
		"##[error]legacy",
		"::stop-commands::tok",
		"   ::warning::indented",
	}
	for _, s := range attacks {
		for _, a := range []Annotation{
			{Title: "loftyscan", Message: s},
			{Title: s, Message: "m"},
			{File: s, Line: 1, Message: "m"},
			{Level: LevelWarning, Title: s, File: s, Line: 2, Col: 3, Message: s},
		} {
			r := newRunner()
			out := a.String() + "\n"
			r.feed(out)
			if len(r.commands) != 1 {
				t.Errorf("%+v: %q is %d commands: %+v", a, out, len(r.commands), r.commands)
				continue
			}
			c := r.commands[0]
			want := map[string]string{}
			for k, v := range map[string]string{"file": a.File, "title": a.Title} {
				if v != "" {
					want[k] = v
				}
			}
			for k, n := range map[string]int{"line": a.Line, "col": a.Col} {
				if n > 0 {
					want[k] = strconv.Itoa(n)
				}
			}
			if c.name != a.Level.String() || c.data != a.Message || !maps.Equal(c.props, want) {
				t.Errorf("%q read as %s %q %q, want %s %q %q", out, c.name, c.props, c.data, a.Level, want, a.Message)
			}
		}
	}
}

// FuzzAnnotation checks that whatever the text, an annotation is one line
// that is read as one command, its properties the ones set, and that text
// without other control characters comes back as it was.
func FuzzAnnotation(f *testing.F) {
	f.Add("loftyscan", "app/x.env", "\n::error title=x::injected")
	f.Add("a,b", "c:d", "%0A%25%")
	f.Add("\r", "\xff", "##[warning]x\r\n::add-mask::y")
	f.Fuzz(func(t *testing.T, title, file, msg string) {
		a := Annotation{Level: LevelWarning, Title: title, File: file, Line: 7, Message: msg}
		out := a.String()
		if strings.ContainsAny(out, "\r\n") {
			t.Fatalf("%q spans lines", out)
		}
		r := newRunner()
		r.feed(out)
		if len(r.commands) != 1 || r.commands[0].name != "warning" {
			t.Fatalf("%q: %+v", out, r.commands)
		}
		c := r.commands[0]
		for k := range c.props {
			if k != "title" && k != "file" && k != "line" {
				t.Fatalf("%q: property %q", out, k)
			}
		}
		if c.props["line"] != "7" {
			t.Fatalf("%q: line %q", out, c.props["line"])
		}
		if plain(msg) && c.data != msg {
			t.Fatalf("message %q read back as %q", msg, c.data)
		}
		if plain(title) && c.props["title"] != title {
			t.Fatalf("title %q read back as %q", title, c.props["title"])
		}
		if plain(file) && c.props["file"] != file {
			t.Fatalf("file %q read back as %q", file, c.props["file"])
		}
	})
}

// plain reports text that the renderer only escapes by GitHub's rules:
// valid UTF-8 with no control characters but CR, LF and tab, and no
// bidirectional or line-separator runes; not empty (an empty property is
// left out) and without white space at either end (the runner trims the
// properties, so a last property's trailing spaces are lost).
func plain(s string) bool {
	if !utf8.ValidString(s) || s == "" || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r != '\r' && r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029') {
			return false
		}
	}
	return true
}

// TestStopCommands checks that between StopCommands and its resume no line
// is read as a command, whatever it says, and that commands work again
// after.
func TestStopCommands(t *testing.T) {
	var out bytes.Buffer
	resume, err := StopCommands(&out)
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString(strings.Join([]string{
		"::error title=x::injected",
		"  ::warning::indented",
		"::add-mask::secret",
		"see ##[error]legacy",
		"::stop-commands::other",
		"::endgroup::",
		"::loftyscan-guess::",
		"",
	}, "\n"))
	if err := resume(); err != nil {
		t.Fatal(err)
	}
	out.WriteString(Annotation{Message: "after"}.String() + "\n")

	r := newRunner()
	r.feed(out.String())
	var names []string
	for _, c := range r.commands {
		names = append(names, c.name)
	}
	lines := strings.Split(out.String(), "\n")
	token := strings.TrimPrefix(lines[0], "::stop-commands::")
	if want := []string{"stop-commands", token, "error"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("commands %q, want %q\n%s", names, want, out.String())
	}
	if r.commands[len(r.commands)-1].data != "after" {
		t.Errorf("last command %+v", r.commands[len(r.commands)-1])
	}
	if !regexp.MustCompile(`^loftyscan-[A-Z2-7]{26}$`).MatchString(token) {
		t.Errorf("token %q: want loftyscan- and 26 base32 characters (130 bits)", token)
	}
	// Each call draws a new token.
	var again bytes.Buffer
	if _, err := StopCommands(&again); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(again.String(), token) {
		t.Errorf("the same token twice: %q", token)
	}
}
