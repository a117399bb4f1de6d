package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as the loftyscan command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"loftyscan": func() { os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts in testdata/script. Keys are signed fresh
// for every run with the public test secret and handed to the scripts as
// environment variables; the `expand` command writes them into files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: setupKeys,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"expand": cmdExpand,
		},
	})
}

// Synthetic keys for the scripts, signed by internal/testtoken: none is real.
var scriptKeys = map[string]string{
	"KEY":     testtoken.Key("script-account", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)),
	"KEY2":    testtoken.Key("script-other", time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC)),
	"EXPIRED": testtoken.Key("script-old", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
	"NOEXP":   testtoken.Key("script-forever", time.Time{}),
	"GENERIC": testtoken.Generic("supabase-anon"),
}

func setupKeys(e *testscript.Env) error {
	for k, v := range scriptKeys {
		e.Setenv(k, v)
		e.Setenv(k+"_SIG", testtoken.Segments(v)[2])
		sum := sha256.Sum256([]byte(v))
		e.Setenv(k+"_FP", hex.EncodeToString(sum[:]))
	}
	e.Setenv("NO_COLOR", "")
	return nil
}

// cmdExpand replaces $VAR and ${VAR} in the named files with the script's
// environment, so fixtures can hold keys without committing them.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: expand FILE...")
	}
	for _, name := range args {
		data := ts.ReadFile(name)
		ts.Check(os.WriteFile(ts.MkAbs(name), []byte(os.Expand(data, ts.Getenv)), 0o644))
	}
}
