// Package config reads loftyscan's configuration file, ignore file and baselines.
//
// Three files tune a scan without flags, so that a repository can carry its
// own settings and a CI step stays one line:
//
//   - .loftyscan.toml, at the scan root or given with --config: paths to
//     skip, extra Lofty context names, confirming scopes, archive limits
//     (Load, Config).
//   - .loftyscanignore, at the scan root: findings accepted one by one, by
//     fingerprint, each with a comment that says why (ParseIgnore).
//   - a baseline: a previous JSON report, whose findings are known and not
//     reported again (LoadBaseline).
//
// The package only reads and validates. It prints nothing and exits
// nothing; every error names the file, and the line where there is one, so
// the CLI can show it as it is. It imports nothing else of loftyscan, so
// that scanner and the CLI may both import it.
//
// Both files belong to whoever can commit to the scanned repository, so
// the CLI decides where they are read from: a scan of a change reads them
// from the commit it starts from, never from the change (see the README's
// "Where settings come from"). Parse and ParseIgnore read from any reader,
// a file or a blob. Caps a file sets are held to ceilings (Archives.Clamp):
// only flags go further.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// The files looked for at the scan root.
const (
	fileName       = ".loftyscan.toml"
	ignoreFileName = ".loftyscanignore"
)

// FileName and IgnoreFileName are the names of the settings file and the
// ignore file a repository may carry at its top.
const (
	FileName       = fileName
	IgnoreFileName = ignoreFileName
)

// MaxArchiveDepth is the deepest archive nesting a configuration may ask
// for. Real archives nest two or three deep; beyond ten, a nest is a bomb.
const MaxArchiveDepth = 10

// maxFileSize caps what Parse reads: a configuration is a few hundred
// bytes, and one found in a scanned repository must not exhaust memory.
const maxFileSize = 1 << 20

// Config is what a .loftyscan.toml sets. Every setting is also a flag, and
// flags win, so the CLI must know what the file set: a nil slice or a nil
// pointer means the file did not set it. An example with every key:
//
//	# paths to skip, gitignore-style globs relative to the scan root
//	skip = ["vendor/", "**/*.min.js", "!vendor/keep.env"]
//	# extra names that put an unconfirmed JWS in a Lofty context (added to lofty, chime)
//	context_names = ["acme_crm"]
//	# scope values that confirm a key (replace the default THIRD_PARTY_OPERATION)
//	scopes = ["THIRD_PARTY_OPERATION"]
//
//	[archives]
//	depth = 3                # archives opened inside one another; 0 opens none
//	entry_bytes = "256MiB"   # or a plain number of bytes
//	total_bytes = "1GiB"
//	ratio = 200              # decompressed:compressed; 0 turns the check off
//	entries = 100000
//
//	[rules]
//	unconfirmed = false      # no lofty-unconfirmed-token findings (default true)
//
// Unknown keys are errors: a misspelt key that silently does nothing would
// leave the user believing a limit or a skip is in force.
type Config struct {
	// Path is the name the file was read under, for messages.
	Path string

	// Skip holds gitignore-style patterns of paths not to scan, relative
	// to the scan root, in file order; see SkipMatcher. They are checked
	// when the file is read, so NewSkipMatcher(c.Skip) does not fail.
	Skip []string

	// ContextNames are names that put an unconfirmed JWS in a Lofty
	// context. They add to rules.DefaultContextNames (lofty, chime): a
	// company that wraps Lofty under its own name should not lose the
	// defaults by naming itself.
	ContextNames []string

	// Scopes are the scope values that confirm a Lofty key. They replace
	// the default THIRD_PARTY_OPERATION, so that a deployment with its own
	// scope names can also drop the default. Never empty when set.
	Scopes []string

	// Archives are the archive limits, each nil when not set.
	Archives Archives

	// Rules turn rules on or off, each nil when not set.
	Rules Rules
}

// Rules are the rules the file turns on or off. A rule is on unless the
// file turns it off.
type Rules struct {
	// Unconfirmed is whether lofty-unconfirmed-token is reported: a JWS
	// without the Lofty scope beside a Lofty name. A team whose code uses
	// other services' JWTs next to Lofty names may turn it off; confirmed
	// keys are reported whatever it says.
	Unconfirmed *bool
}

// Archives are the caps on archives and compressed data the file sets; they
// map one to one onto scanner.Limits.
type Archives struct {
	Depth      *int   // archive layers opened inside one another, 0 to MaxArchiveDepth
	EntryBytes *int64 // decompressed bytes read from one entry, at least 1
	TotalBytes *int64 // decompressed bytes read from one file's archives, at least 1
	Ratio      *int64 // decompressed:compressed ratio allowed; 0 turns the check off
	Entries    *int   // entries read from one archive, at least 1
}

// file is the TOML document. Pointers and any let Parse see what is set
// and accept a size as either an integer or a string.
type file struct {
	Skip         *[]string     `toml:"skip"`
	ContextNames *[]string     `toml:"context_names"`
	Scopes       *[]string     `toml:"scopes"`
	Archives     *fileArchives `toml:"archives"`
	Rules        *fileRules    `toml:"rules"`
}

type fileRules struct {
	Unconfirmed *bool `toml:"unconfirmed"`
}

type fileArchives struct {
	Depth      *int64 `toml:"depth"`
	EntryBytes any    `toml:"entry_bytes"`
	TotalBytes any    `toml:"total_bytes"`
	Ratio      *int64 `toml:"ratio"`
	Entries    *int64 `toml:"entries"`
}

// knownKeys are the keys of a valid file, with what each wants, for
// type errors and "did you mean" hints.
var knownKeys = map[string]string{
	"skip":                 "an array of strings",
	"context_names":        "an array of strings",
	"scopes":               "an array of strings",
	"archives":             "a table",
	"archives.depth":       "an integer",
	"archives.entry_bytes": `a number of bytes or a size such as "256MiB"`,
	"archives.total_bytes": `a number of bytes or a size such as "1GiB"`,
	"archives.ratio":       "an integer",
	"archives.entries":     "an integer",
	"rules":                "a table",
	"rules.unconfirmed":    "true or false",
}

// Find returns the path of the configuration file at the scan root, and
// whether there is one. A file that exists but cannot be read counts as
// found, so that Load reports it rather than the scan running without it.
func Find(root string) (path string, ok bool) {
	return find(root, fileName)
}

// FindIgnore returns the path of the ignore file at the scan root, and
// whether there is one, as Find does.
func FindIgnore(root string) (path string, ok bool) {
	return find(root, ignoreFileName)
}

func find(root, name string) (string, bool) {
	p := filepath.Join(root, name)
	_, err := os.Stat(p)
	if err == nil || errors.Is(err, fs.ErrPermission) {
		return p, true
	}
	return "", false
}

// Load reads and checks the configuration file at path. A named pipe there
// does not block the open (see package nonblock).
func Load(path string) (*Config, error) {
	f, err := nonblock.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, finding.DropPath(err))
	}
	defer f.Close()
	return parse(f, path)
}

// Parse reads and checks a configuration file from r: a file, or the blob
// of a commit that a scan of a change reads its settings from. name is the
// path to show in errors.
func Parse(r io.Reader, name string) (*Config, error) { return parse(r, name) }

// parse reads and checks a configuration file; name is the path to show
// in errors. Every error starts "config NAME:LINE: " where a line is
// known; several problems are joined, one per line, so a user fixes them
// all in one go.
func parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, finding.DropPath(err))
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("config %s: larger than 1 MiB: is this a loftyscan configuration file?", name)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))

	var doc file
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(name, err)
	}

	v := validator{name: name, lines: keyLines(data)}
	c := &Config{Path: name}
	if doc.Skip != nil {
		c.Skip = v.stringList("skip", *doc.Skip)
		for i, s := range c.Skip {
			if strings.TrimSpace(s) == "" {
				continue // reported as empty
			}
			if _, err := compilePattern(s); err != nil {
				v.addf(fmt.Sprintf("skip[%d]", i), "skip pattern %q %v", s, err)
			}
		}
	}
	if doc.ContextNames != nil {
		c.ContextNames = v.stringList("context_names", *doc.ContextNames)
	}
	if doc.Scopes != nil {
		c.Scopes = v.stringList("scopes", *doc.Scopes)
		if len(c.Scopes) == 0 {
			v.addf("scopes", "scopes is empty: remove the key to confirm keys by THIRD_PARTY_OPERATION, or list the scopes that confirm a key")
		}
	}
	if a := doc.Archives; a != nil {
		c.Archives.Depth = intPtr(v.inRange("archives.depth", a.Depth, 0, MaxArchiveDepth))
		c.Archives.EntryBytes = v.size("archives.entry_bytes", a.EntryBytes)
		c.Archives.TotalBytes = v.size("archives.total_bytes", a.TotalBytes)
		c.Archives.Ratio = v.inRange("archives.ratio", a.Ratio, 0, math.MaxInt32)
		c.Archives.Entries = intPtr(v.inRange("archives.entries", a.Entries, 1, math.MaxInt32))
	}
	if r := doc.Rules; r != nil {
		c.Rules.Unconfirmed = r.Unconfirmed
	}
	if len(v.errs) > 0 {
		return nil, v.err()
	}
	return c, nil
}

// validator collects the errors of values that parsed but make no sense.
type validator struct {
	name  string
	lines map[string]int
	errs  []lineError
}

type lineError struct {
	line int
	err  error
}

// addf records an error about key, at the key's line.
func (v *validator) addf(key, format string, args ...any) {
	line := v.line(key)
	where := "config " + v.name
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	v.errs = append(v.errs, lineError{line, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))})
}

// maxErrors is how many problems one error lists: enough to fix a file in
// one go, few enough to read.
const maxErrors = 20

// err joins the errors in file order.
func (v *validator) err() error {
	slices.SortStableFunc(v.errs, func(a, b lineError) int { return a.line - b.line })
	var errs []error
	for i, e := range v.errs {
		if i == maxErrors {
			errs = append(errs, fmt.Errorf("config %s: and %d more problems", v.name, len(v.errs)-maxErrors))
			break
		}
		errs = append(errs, e.err)
	}
	return errors.Join(errs...)
}

// line is the line of key, or of the array holding it; 0 if unknown.
func (v *validator) line(key string) int {
	if line, ok := v.lines[key]; ok {
		return line
	}
	if i := strings.IndexByte(key, '['); i > 0 {
		return v.lines[key[:i]]
	}
	return 0
}

// stringList checks a list of strings: an empty string is always a slip (an
// empty context name would match every line, an empty scope nothing).
func (v *validator) stringList(key string, list []string) []string {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.addf(fmt.Sprintf("%s[%d]", key, i), "%s[%d] is an empty string", key, i)
		}
	}
	if list == nil {
		list = []string{}
	}
	return list
}

// inRange returns n if it is within [lo, hi], else records an error and
// returns nil.
func (v *validator) inRange(key string, n *int64, lo, hi int64) *int64 {
	if n == nil {
		return nil
	}
	if *n < lo || *n > hi {
		switch {
		case key == "archives.depth":
			v.addf(key, "%s is %d: want 0 (open no archives) to %d", key, *n, hi)
		case lo == 1 && *n == 0:
			v.addf(key, "%s is 0: want at least 1 (set archives.depth = 0 to open no archives)", key)
		case *n < lo:
			v.addf(key, "%s is %d: want at least %d", key, *n, lo)
		default:
			v.addf(key, "%s is %d: want at most %d", key, *n, hi)
		}
		return nil
	}
	return n
}

func intPtr(n *int64) *int {
	if n == nil {
		return nil
	}
	i := int(*n)
	return &i
}

// size reads a size given as an integer or a string.
func (v *validator) size(key string, val any) *int64 {
	var n int64
	switch val := val.(type) {
	case nil:
		return nil
	case int64:
		if val < 0 {
			v.addf(key, "%s is %d: a size cannot be negative", key, val)
			return nil
		}
		n = val
	case string:
		s, err := ParseSize(val)
		if err != nil {
			v.addf(key, "%s: %v", key, err)
			return nil
		}
		n = s
	default:
		v.addf(key, "%s is %s: want %s", key, tomlKind(val), knownKeys[key])
		return nil
	}
	if n == 0 {
		v.addf(key, "%s is 0: want at least 1 byte (set archives.depth = 0 to open no archives)", key)
		return nil
	}
	return &n
}

// tomlKind names the TOML type of a value decoded into an any.
func tomlKind(v any) string {
	switch v.(type) {
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

// decodeError turns go-toml's errors into "config NAME:LINE: ..." ones.
func decodeError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			key := joinKey(e.Key())
			msg := fmt.Sprintf("config %s:%d: unknown key %q", name, line, key)
			if s := suggestKey(key); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		key := joinKey(de.Key())
		if want, ok := knownKeys[key]; ok {
			if m := mismatchRE.FindStringSubmatch(msg); m != nil {
				verb := "is"
				if strings.HasPrefix(want, "an array") && !strings.HasSuffix(m[2], "[]string") {
					verb = "holds" // an element has the wrong type
				}
				return fmt.Errorf("config %s:%d: %s %s a%s %s: want %s", name, line, key, verb, article(m[1]), m[1], want)
			}
			return fmt.Errorf("config %s:%d: %s: %s", name, line, key, msg)
		}
		return fmt.Errorf("config %s:%d: %s", name, line, msg)
	}
	return fmt.Errorf("config %s: %w", name, err)
}

// mismatchRE picks the TOML type and the Go target out of go-toml's type
// mismatch message, "cannot decode TOML local date into struct field
// config.fileArchives.Depth of type int64".
var mismatchRE = regexp.MustCompile(`^cannot decode TOML (.+?) into (.*)$`)

func article(kind string) string {
	if strings.ContainsRune("aeiou", rune(kind[0])) {
		return "n"
	}
	return ""
}

func joinKey(k toml.Key) string { return strings.Join(k, ".") }

// suggestKey returns the known key closest to an unknown one, if it is
// close enough to be a typo.
func suggestKey(key string) string {
	best, bestDist := "", 3
	for _, k := range slices.Sorted(maps.Keys(knownKeys)) {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		// "depth" at the top level: the right key in the wrong table.
		last := key[strings.LastIndexByte(key, '.')+1:]
		for _, k := range slices.Sorted(maps.Keys(knownKeys)) {
			if strings.HasSuffix(k, "."+last) {
				return k
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyLines maps each key of a document that go-toml accepted to the line
// it is on, and each array element to its own line as "key[i]", so that
// errors about values can name the line. go-toml's Decoder does not keep
// positions of what it decoded without error.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	// Line starts, searched by offset: Parser.Shape counts newlines from
	// the start of the document each time, quadratic in a long list.
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	line := func(r unstable.Range) int {
		i, found := slices.BinarySearch(starts, int(r.Offset))
		if !found {
			i--
		}
		return i + 1
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = nil
			it := e.Key()
			first := 0
			for it.Next() {
				table = append(table, string(it.Node().Data))
				if first == 0 {
					first = line(it.Node().Raw)
				}
			}
			lines[strings.Join(table, ".")] = first
		case unstable.KeyValue:
			recordKeyValue(lines, table, e, line)
		}
	}
	return lines
}

// recordKeyValue records a key = value expression, and within its value
// the elements of arrays and the keys of inline tables.
func recordKeyValue(lines map[string]int, table []string, e *unstable.Node, line func(unstable.Range) int) {
	key := append([]string(nil), table...)
	it := e.Key()
	first := 0
	for it.Next() {
		key = append(key, string(it.Node().Data))
		if first == 0 {
			first = line(it.Node().Raw)
		}
	}
	k := strings.Join(key, ".")
	lines[k] = first
	val := e.Value()
	switch val.Kind {
	case unstable.Array:
		children := val.Children()
		for i := 0; children.Next(); {
			n := children.Node()
			if n.Kind == unstable.Comment {
				continue
			}
			l := first
			if n.Raw.Length > 0 {
				l = line(n.Raw)
			}
			lines[k+"["+strconv.Itoa(i)+"]"] = l
			i++
		}
	case unstable.InlineTable:
		children := val.Children()
		for children.Next() {
			if n := children.Node(); n.Kind == unstable.KeyValue {
				recordKeyValue(lines, key, n, line)
			}
		}
	}
}
