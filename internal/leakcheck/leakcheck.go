// Package leakcheck checks loftyscan's own source for output that bypasses
// the one redaction and escaping point (finding.Sanitize and the Finding
// methods built on it). It type-checks the code (golang.org/x/tools/go/
// packages), so a field read through another variable, a method value or
// a promoted field is found as surely as a plain f.Path; a grep would miss
// those and would rot with the first rename. Its test runs it over the
// module, so a change that prints scanned data another way fails the tests.
//
// Three rules:
//
//  1. Packages reporters and internal/ghaction (the GitHub annotations)
//     read the fields of finding's types (and of reporters' exported ones,
//     Report and Options) that hold scanned text only to sanitize them (an argument of
//     finding.Sanitize or finding.Redact), to compare them (== or !=, len)
//     or to set them; they print a finding's text through Finding.Shown,
//     Redacted and PathForURI. It never hands a whole Finding or Warning to
//     code outside finding and reporters (fmt's %v, encoding/json), which
//     would print every raw field. The exceptions are listed in
//     reporterExceptions, each with its reason. A new string field of
//     Finding is covered as soon as it is added, unless listed in
//     loftyscanFields as made by loftyscan rather than read from the data.
//  2. Package internal/cli writes to the terminal only through its message
//     helpers (printError, printWarning, printHint, printNote,
//     printSkipped), which sanitize the whole message. Writes elsewhere are
//     listed in cliWriters, each with its reason.
//  3. No other package but a command (package main: loftyscan's main.go,
//     the benchmark tools) writes to standard output or standard error
//     itself (os.Stdout, os.Stderr, fmt.Print*, log.Print*, print): they
//     return errors and warnings, which the CLI prints.
//
// Exceptions that are no longer used are reported too, so the lists cannot
// grow stale.
package leakcheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Module is the import path of the module checked.
const Module = "github.com/loftyscan/loftyscan"

const (
	findingPkg   = Module + "/finding"
	reportersPkg = Module + "/reporters"
	cliPkg       = Module + "/internal/cli"
	ghactionPkg  = Module + "/internal/ghaction"
)

// loftyscanFields are the string fields of finding's types that loftyscan
// makes itself, which hold nothing read from scanned data.
var loftyscanFields = map[string]string{
	"Finding.RuleID":         "one of the rules' constant ids",
	"Finding.Fingerprint":    "hex SHA-256 computed by loftyscan",
	"Finding.Commit":         "hex object name computed by git's hashing",
	"Finding.Status":         "one of rules.Status's constants",
	"Finding.Verification":   "one of finding.Verification's constants",
	"Options.Version":        "loftyscan's own version, from its build",
	"Notice.Kind":            "one of finding's Notice* constants",
	"Finding.Location":       "one of finding.Location's constants",
	"Exposure.ReachableFrom": "one of finding.Reach's constants",
	"Exposure.LastCommit":    "hex object name computed by git's hashing",
	"RefExposure.LastCommit": "hex object name computed by git's hashing",
}

// sanitizers are the functions of package finding whose result is safe to
// print whatever their argument.
var sanitizers = []string{"Sanitize", "Redact"}

// reporterExceptions are the reads of scanned text in package reporters
// that print nothing or print on purpose, by function and field.
var reporterExceptions = map[string]string{
	"terminalReporter.writeFinding Finding.Secret": "the token in full, only when Options.ShowSecrets asks for it (escaped)",
	"jsonReporter.Report Finding.Secret":           "the secret field, only when Options.ShowSecrets asks for it",
	"sarifResultFor Finding.Secret":                "only its length, for the region's end column",
	"gitlabID Finding.Path":                        "hashed into the vulnerability id, never printed",
	"gitlabID Finding.Tag":                         "hashed into the vulnerability id, never printed",
	"suppressedInSource Finding.Suppressed":        "a prefix test; nothing printed",
	"sarifReporter.Report Report.Root":             "the scan root is the user's folder, not scanned data, and becomes a percent-encoded file URI",
}

// cliWriters are the functions of package internal/cli allowed to write
// to an io.Writer themselves.
var cliWriters = map[string]string{
	"printError":               "a message helper: sanitizes the whole message",
	"printWarning":             "a message helper: sanitizes the whole message",
	"printHint":                "a message helper: sanitizes the whole message",
	"printNote":                "a message helper: sanitizes the whole message",
	"printSkipped":             "a message helper (--verbose's skips): sanitizes the whole message",
	"printAnnotation":          "a message helper for GitHub Actions: sanitizes each line, then escapes the message as a workflow command's data",
	"writeStepOutput":          "writes loftyscan's own value (a commit range) to $GITHUB_OUTPUT, refusing line breaks",
	"progressLine.draw":        "counts and loftyscan's own terminal codes, no data",
	"progressLine.clear":       "loftyscan's own terminal codes",
	"newVersionCommand":        "the binary's own build information",
	"writeMan":                 "the man page: loftyscan's help text",
	"remediateFlags.writePlan": "the remediation plan: internal/remediate escapes and redacts every string from the repository (Plan.Write, its own tests); the keys are only in its 0600 replacements file",
}

// A Problem is a place that bypasses the redaction point.
type Problem struct {
	Pos token.Position
	Msg string
}

func (p Problem) String() string { return p.Pos.String() + ": " + p.Msg }

// Check runs the three rules over the module in dir. overlay maps file
// names to contents that replace or add to the files on disk (the test
// uses it to plant violations).
func Check(dir string, overlay map[string][]byte) ([]Problem, error) {
	c := &checker{used: map[string]bool{}}
	typed, err := load(dir, overlay, packages.NeedTypes|packages.NeedTypesInfo, "./reporters", "./internal/ghaction", "./internal/cli")
	if err != nil {
		return nil, err
	}
	for _, p := range typed {
		switch p.PkgPath {
		case reportersPkg, ghactionPkg:
			c.checkReporters(p)
		case cliPkg:
			c.checkCLI(p)
		}
	}
	all, err := load(dir, overlay, 0, "./...")
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.PkgPath != cliPkg && p.Name != "main" { // commands print; the libraries they call do not
			c.checkNoPrinting(p)
		}
	}
	for _, list := range []map[string]string{reporterExceptions, cliWriters} {
		for k, why := range list {
			if why != "" && !c.used[k] {
				c.problems = append(c.problems, Problem{Msg: fmt.Sprintf("leakcheck: the exception %q is no longer used: remove it", k)})
			}
		}
	}
	slices.SortFunc(c.problems, func(a, b Problem) int { return strings.Compare(a.String(), b.String()) })
	return c.problems, nil
}

func load(dir string, overlay map[string][]byte, mode packages.LoadMode, patterns ...string) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Mode:    mode | packages.NeedName | packages.NeedFiles | packages.NeedSyntax,
		Dir:     dir,
		Overlay: overlay,
		Fset:    token.NewFileSet(),
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("leakcheck: cannot load the code: %s", strings.Join(errs, "; "))
	}
	return pkgs, nil
}

type checker struct {
	problems []Problem
	used     map[string]bool
}

func (c *checker) report(fset *token.FileSet, n ast.Node, format string, args ...any) {
	c.problems = append(c.problems, Problem{Pos: fset.Position(n.Pos()), Msg: fmt.Sprintf(format, args...)})
}

// walk calls visit for every node of p's files with the stack of nodes
// that hold it (stack[len(stack)-1] is the node) and the name of the
// function declaration it is in ("" outside one; "Type.Method" for a
// method).
func walk(p *packages.Package, visit func(stack []ast.Node, fn string)) {
	for _, f := range p.Syntax {
		var stack []ast.Node
		fn := ""
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				if _, ok := stack[len(stack)-1].(*ast.FuncDecl); ok {
					fn = ""
				}
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			if d, ok := n.(*ast.FuncDecl); ok {
				fn = funcName(d)
			}
			visit(stack, fn)
			return true
		})
	}
}

func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

// guarded returns "Type.Field" when sel reads a field that holds scanned
// text: a string-like field of a struct of package finding, or of an
// exported struct of package reporters (what reporters take in: Report,
// Options), that loftyscan does not make itself.
func guarded(info *types.Info, sel *ast.SelectorExpr) (string, bool) {
	s := info.Selections[sel]
	if s == nil || s.Kind() != types.FieldVal {
		return "", false
	}
	owner := deref(s.Recv())
	idx := s.Index()
	for _, k := range idx[:len(idx)-1] { // through embedded structs to the field's own
		st, ok := owner.Underlying().(*types.Struct)
		if !ok {
			return "", false
		}
		owner = deref(st.Field(k).Type())
	}
	field := s.Obj().(*types.Var)
	named, ok := owner.(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return "", false
	}
	pkg, name := named.Obj().Pkg().Path(), named.Obj().Name()
	switch {
	case pkg == findingPkg && (name == "Shown" || name == "ShownRef"):
		return "", false // sanitized already
	case pkg == findingPkg, pkg == reportersPkg && named.Obj().Exported():
		// finding's types, and what reporters take in (Report, Options)
	default:
		return "", false
	}
	key := name + "." + field.Name()
	if _, ok := loftyscanFields[key]; ok || !stringLike(field.Type()) {
		return "", false
	}
	return key, true
}

func deref(t types.Type) types.Type {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// stringLike reports whether t holds text: a string, or a slice, array,
// map or pointer of strings.
func stringLike(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Info()&types.IsString != 0
	case *types.Slice:
		return stringLike(u.Elem())
	case *types.Array:
		return stringLike(u.Elem())
	case *types.Map:
		return stringLike(u.Key()) || stringLike(u.Elem())
	case *types.Pointer:
		return stringLike(u.Elem())
	}
	return false
}

// holdsData reports whether a value of type t carries finding's raw
// fields: a Finding or Warning, a pointer, slice or map of them.
func holdsData(t types.Type) bool {
	switch u := t.(type) {
	case *types.Named:
		o := u.Obj()
		if o.Pkg() != nil && o.Pkg().Path() == findingPkg && (o.Name() == "Finding" || o.Name() == "Warning") {
			return true
		}
		if o.Pkg() != nil && o.Pkg().Path() == reportersPkg && o.Name() == "Report" {
			return true
		}
		return false
	case *types.Pointer:
		return holdsData(u.Elem())
	case *types.Slice:
		return holdsData(u.Elem())
	case *types.Array:
		return holdsData(u.Elem())
	case *types.Map:
		return holdsData(u.Elem())
	}
	return false
}

// checkReporters is rule 1.
func (c *checker) checkReporters(p *packages.Package) {
	walk(p, func(stack []ast.Node, fn string) {
		switch n := stack[len(stack)-1].(type) {
		case *ast.SelectorExpr:
			key, ok := guarded(p.TypesInfo, n)
			if !ok || c.harmlessRead(p.TypesInfo, stack) {
				return
			}
			exc := fn + " " + key
			if _, ok := reporterExceptions[exc]; ok {
				c.used[exc] = true
				return
			}
			c.report(p.Fset, n, "%s in %s is read raw: print it through Finding.Shown, Redacted or PathForURI, or finding.Sanitize (or list the read in leakcheck's reporterExceptions, with why it prints no scanned data)", key, orTop(fn))
		case *ast.CallExpr:
			callee := calleePkg(p.TypesInfo, n)
			if callee == findingPkg || callee == reportersPkg || callee == "builtin" {
				return
			}
			for _, a := range n.Args {
				if t := p.TypesInfo.TypeOf(a); t != nil && holdsData(t) {
					c.report(p.Fset, a, "%s in %s hands %s, with every raw field, to %s: pass its Shown() text instead", exprString(a), orTop(fn), t, calleeName(n))
				}
			}
		}
	})
}

// harmlessRead reports whether the field read at the top of stack prints
// nothing: it is set, compared, measured or sanitized.
func (c *checker) harmlessRead(info *types.Info, stack []ast.Node) bool {
	node := stack[len(stack)-1].(ast.Expr)
	i := len(stack) - 2
	for i >= 0 {
		if _, ok := stack[i].(*ast.ParenExpr); !ok {
			break
		}
		node = stack[i].(ast.Expr)
		i--
	}
	if i < 0 {
		return false
	}
	switch parent := stack[i].(type) {
	case *ast.AssignStmt:
		return slices.Contains(parent.Lhs, node)
	case *ast.BinaryExpr:
		return parent.Op == token.EQL || parent.Op == token.NEQ
	case *ast.CallExpr:
		if parent.Fun == node {
			return false
		}
		switch fn := typeutilCallee(info, parent).(type) {
		case *types.Builtin:
			return fn.Name() == "len"
		case *types.Func:
			return fn.Pkg() != nil && fn.Pkg().Path() == findingPkg && slices.Contains(sanitizers, fn.Name())
		}
	}
	return false
}

// checkCLI is rule 2.
func (c *checker) checkCLI(p *packages.Package) {
	walk(p, func(stack []ast.Node, fn string) {
		call, ok := stack[len(stack)-1].(*ast.CallExpr)
		if !ok || !writesOut(p.TypesInfo, call) {
			return
		}
		if why, ok := cliWriters[fn]; ok && why != "" {
			c.used[fn] = true
			return
		}
		c.report(p.Fset, call, "%s writes to the user directly from %s: use printError, printWarning, printHint or printNote, which sanitize the message (or list the function in leakcheck's cliWriters, with why it writes no scanned data)", calleeName(call), orTop(fn))
	})
}

// writesOut reports whether call writes to an io.Writer that is not an
// in-memory buffer, or to standard output.
func writesOut(info *types.Info, call *ast.CallExpr) bool {
	switch fn := typeutilCallee(info, call).(type) {
	case *types.Builtin:
		return fn.Name() == "print" || fn.Name() == "println"
	case *types.Func:
		sig, _ := fn.Type().(*types.Signature)
		pkg := ""
		if fn.Pkg() != nil {
			pkg = fn.Pkg().Path()
		}
		switch {
		case sig != nil && sig.Recv() == nil && pkg == "fmt" && strings.HasPrefix(fn.Name(), "Print"):
			return true
		case sig != nil && sig.Recv() == nil && (pkg == "fmt" && strings.HasPrefix(fn.Name(), "Fprint") || pkg == "io" && fn.Name() == "WriteString"):
			return len(call.Args) > 0 && !inMemory(info.TypeOf(call.Args[0]))
		case sig != nil && sig.Recv() != nil && slices.Contains([]string{"Write", "WriteString", "WriteByte", "WriteRune", "ReadFrom"}, fn.Name()):
			sel, ok := call.Fun.(*ast.SelectorExpr)
			return ok && !inMemory(info.TypeOf(sel.X))
		case sig != nil && sig.Recv() != nil && pkg == "github.com/spf13/cobra" && strings.HasPrefix(fn.Name(), "Print"):
			return true
		}
	}
	return false
}

// inMemory reports whether t is a buffer whose content is printed later,
// if at all, by other code (which the rules check there).
func inMemory(t types.Type) bool {
	if t == nil {
		return false
	}
	s := types.TypeString(deref(t), nil)
	return s == "strings.Builder" || s == "bytes.Buffer" || strings.HasPrefix(s, "hash.")
}

// checkNoPrinting is rule 3, on syntax alone: it needs only import names.
func (c *checker) checkNoPrinting(p *packages.Package) {
	for _, f := range p.Syntax {
		names := map[string]string{} // local name -> import path
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			name := path.Base(ip)
			if im.Name != nil {
				name = im.Name.Name
			}
			names[name] = ip
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				x, ok := n.X.(*ast.Ident)
				if !ok {
					return true
				}
				switch ip, sel := names[x.Name], n.Sel.Name; {
				case ip == "os" && (sel == "Stdout" || sel == "Stderr"),
					ip == "fmt" && strings.HasPrefix(sel, "Print"),
					ip == "log" && (strings.HasPrefix(sel, "Print") || strings.HasPrefix(sel, "Fatal") || strings.HasPrefix(sel, "Panic")):
					c.report(p.Fset, n, "package %s writes to the terminal itself (%s.%s): return an error or a warning, which the CLI prints through finding's redaction point", p.PkgPath, x.Name, sel)
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println") && id.Obj == nil {
					c.report(p.Fset, n, "package %s writes to standard error itself (%s)", p.PkgPath, id.Name)
				}
			}
			return true
		})
	}
}

// typeutilCallee returns the function or builtin call calls, or nil for a
// call through a function value.
func typeutilCallee(info *types.Info, call *ast.CallExpr) types.Object {
	fun := ast.Unparen(call.Fun)
	if ix, ok := fun.(*ast.IndexExpr); ok { // an instantiated generic function
		fun = ix.X
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		if s := info.Selections[f]; s != nil {
			return s.Obj()
		}
		id = f.Sel
	default:
		return nil
	}
	switch o := info.Uses[id].(type) {
	case *types.Func, *types.Builtin:
		return o
	}
	return nil
}

// calleePkg is the import path of the package of the function call calls,
// "builtin" for a builtin or a conversion, and "" when unknown (a function
// value).
func calleePkg(info *types.Info, call *ast.CallExpr) string {
	if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
		return "builtin" // a conversion
	}
	switch o := typeutilCallee(info, call).(type) {
	case *types.Builtin:
		return "builtin"
	case *types.Func:
		if o.Pkg() != nil {
			return o.Pkg().Path()
		}
	}
	return ""
}

func calleeName(call *ast.CallExpr) string { return exprString(call.Fun) }

func exprString(e ast.Expr) string { return types.ExprString(e) }

func orTop(fn string) string {
	if fn == "" {
		return "a package-level declaration"
	}
	return fn
}
