package ghaction

import (
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The runner reads every line a step prints. A line that starts (after
// leading white space) with "::NAME" and holds a second "::" is a workflow
// command: "::NAME k=v,k=v::data". The runner unescapes %25, %0D and %0A
// in data, and also %3A and %2C in property values, which it splits on ','
// (actions/runner src/Runner.Common/ActionCommand.cs, TryParseV2; the
// escaping of actions/toolkit packages/core/src/command.ts). So text from
// scanned data is safe in a command when:
//
//   - data has no '\r' or '\n' (a line break would start a line of its
//     own, which could be a command) and no '%' that is not an escape;
//   - a property value has neither, nor ':' (which would end the
//     properties early) nor ',' (which would start another property).
//
// Anything else in the line is the command's. A line this file writes
// starts with "::error" and so is read as that command: the runner's older
// "##[name]" syntax, which it looks for anywhere in a line, is only tried
// when a line is not a "::" command.

// Level is an annotation's level.
type Level int

const (
	LevelError   Level = iota // ::error, the zero value: a finding, a failed scan
	LevelWarning              // ::warning: the scan goes on, but look
	LevelNotice               // ::notice: for the record
)

func (l Level) String() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelNotice:
		return "notice"
	}
	return "error"
}

// Annotation is a message GitHub shows on the run, and on the file and
// line when File is set. Zero fields are left out. Text that comes from
// scanned data must be redacted before it gets here: this only makes it
// safe as a workflow command, and printable.
type Annotation struct {
	Level     Level
	Title     string
	File      string // slash-separated, relative to the repository root
	Line      int    // 1-based; 0 leaves it out
	EndLine   int
	Col       int // 1-based; 0 leaves it out
	EndColumn int
	Message   string
}

// String renders the annotation as one workflow-command line, without the
// line end.
func (a Annotation) String() string {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(a.Level.String())
	sep := " "
	prop := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(sep)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(EscapeProperty(v))
		sep = ","
	}
	num := func(k string, n int) {
		if n > 0 {
			prop(k, strconv.Itoa(n))
		}
	}
	prop("file", a.File)
	num("line", a.Line)
	num("endLine", a.EndLine)
	num("col", a.Col)
	num("endColumn", a.EndColumn)
	prop("title", a.Title)
	b.WriteString("::")
	b.WriteString(EscapeData(a.Message))
	return b.String()
}

// EscapeData escapes a workflow command's data (the text after the second
// "::") by GitHub's rules: % as %25, CR as %0D, LF as %0A. Other control
// characters and bidirectional overrides, which the rules let through but
// which could recolour or reorder the log, are shown as \xNN or \uNNNN
// (upper-case hex, as finding.Escape writes them); bytes that are not
// UTF-8 as U+FFFD.
func EscapeData(s string) string {
	return escape(s, false)
}

// EscapeProperty escapes a workflow command's property value by GitHub's
// rules: as EscapeData, and ':' as %3A, ',' as %2C.
func EscapeProperty(s string) string {
	return escape(s, true)
}

func escape(s string, property bool) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '%':
			b.WriteString("%25")
		case r == '\r':
			b.WriteString("%0D")
		case r == '\n':
			b.WriteString("%0A")
		case property && r == ':':
			b.WriteString("%3A")
		case property && r == ',':
			b.WriteString("%2C")
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02X`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// StopCommands prints "::stop-commands::TOKEN", after which the runner
// reads no line as a workflow command until "::TOKEN::", which resume
// prints. Wrap output that quotes scanned data (a terminal report of
// commit messages and paths) in it. TOKEN holds 128 random bits, so the data
// cannot guess it to resume commands itself.
func StopCommands(w io.Writer) (resume func() error, err error) {
	token := newStopToken()
	if _, err := fmt.Fprintf(w, "::stop-commands::%s\n", token); err != nil {
		return nil, err
	}
	return func() error {
		_, err := fmt.Fprintf(w, "::%s::\n", token)
		return err
	}, nil
}

// newStopToken is a token for stop-commands: 130 random bits
// (crypto/rand's Text). The prefix keeps it from ever being the name of a
// command, which the runner refuses as a token.
func newStopToken() string {
	return "loftyscan-" + rand.Text()
}
